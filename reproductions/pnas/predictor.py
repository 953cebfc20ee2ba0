"""PNAS's accuracy predictors (Liu et al., ECCV 2018, Sect. 3.3): an LSTM and an MLP that read
a cell as PNAS encodes it, and an ensemble of them.

Encoding: a cell is a list of blocks, each the four tokens (I1, I2, O1, O2): the two hidden
states it reads and its two operations. Inputs and operations have their own embedding
tables. The LSTM reads the 4B tokens in order and its final hidden state goes through a
linear layer and a sigmoid (accuracy in [0, 1]); the MLP embeds each block as the
concatenation of its four embeddings, averages over blocks (cells have different B) and
applies two hidden layers. The ensemble averages 5 members, each trained on a random 4/5 of
the data. Secondary/unverified (the PNAS text was not read; next-papers.md Sect. 5): D = 100,
the ensemble size 5 and its 4/5 folds, L1 loss. Ours: Adam lr 1e-3 (2e-3 MLP), 100 epochs
of full-batch training, MLP hidden 100.

``PAD`` fills the slots of a block with one argument (an NB-201 node; see nb201_task.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

Block = tuple[int, int, int, int]  # (I1, I2, O1, O2) as indices; PAD for an empty slot
PAD = 0  # index 0 of both tables is padding; real inputs and ops start at 1


class _Embed(nn.Module):
    def __init__(self, num_inputs: int, num_ops: int, dim: int) -> None:
        super().__init__()
        self.inp = nn.Embedding(num_inputs + 1, dim, padding_idx=PAD)
        self.op = nn.Embedding(num_ops + 1, dim, padding_idx=PAD)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(cells, blocks, 4) -> (cells, blocks, 4, dim)."""
        return torch.cat([self.inp(x[..., :2]), self.op(x[..., 2:])], dim=2)


class LSTMPredictor(nn.Module):
    def __init__(self, num_inputs: int, num_ops: int, dim: int = 100) -> None:
        super().__init__()
        self.embed = _Embed(num_inputs, num_ops, dim)
        self.lstm = nn.LSTM(dim, dim, batch_first=True)
        self.out = nn.Linear(dim, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(x).flatten(1, 2)  # (cells, 4B, dim)
        packed = nn.utils.rnn.pack_padded_sequence(
            tokens, (4 * lengths).cpu(), batch_first=True, enforce_sorted=False
        )
        _, (h, _) = self.lstm(packed)
        return torch.sigmoid(self.out(h[-1])).squeeze(1)


class MLPPredictor(nn.Module):
    def __init__(self, num_inputs: int, num_ops: int, dim: int = 100, hidden: int = 100):
        super().__init__()
        self.embed = _Embed(num_inputs, num_ops, dim)
        self.mlp = nn.Sequential(
            nn.Linear(4 * dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        blocks = self.embed(x).flatten(2, 3)  # (cells, B, 4 dim)
        mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).float()[..., None]
        mean = (blocks * mask).sum(1) / lengths[:, None].float()
        return torch.sigmoid(self.out(self.mlp(mean))).squeeze(1)


def batch(cells: Sequence[Sequence[Block]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad encoded cells to the longest: (cells, B_max, 4) indices and the B of each."""
    longest = max(len(c) for c in cells)
    x = torch.full((len(cells), longest, 4), PAD, dtype=torch.long)
    for i, c in enumerate(cells):
        x[i, : len(c)] = torch.tensor(c, dtype=torch.long)
    return x, torch.tensor([len(c) for c in cells])


class Ensemble:
    """``size`` predictors of one kind, each fitted on a random 4/5 of the data."""

    def __init__(
        self,
        kind: str,
        num_inputs: int,
        num_ops: int,
        size: int = 5,
        epochs: int = 100,
        lr: float | None = None,
        seed: int = 0,
    ) -> None:
        if kind not in ("lstm", "mlp"):
            raise ValueError(f"predictor kind must be lstm or mlp, got {kind!r}")
        self.kind, self.size, self.epochs = kind, size, epochs
        self.lr = lr if lr is not None else (1e-3 if kind == "lstm" else 2e-3)
        self.num_inputs, self.num_ops = num_inputs, num_ops
        self.rng = np.random.default_rng(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.members: list[nn.Module] = []

    def _new(self) -> nn.Module:
        cls = LSTMPredictor if self.kind == "lstm" else MLPPredictor
        torch.manual_seed(int(self.rng.integers(2**31)))
        return cls(self.num_inputs, self.num_ops)

    def fit(self, cells: Sequence[Sequence[Block]], accs: Sequence[float]) -> Ensemble:
        """``accs`` in [0, 1]."""
        x, lengths = batch(cells)
        y = torch.tensor(accs, dtype=torch.float32)
        n = len(cells)
        self.members = []
        for _ in range(self.size):
            idx = self.rng.permutation(n)[: max(1, (4 * n) // 5)] if self.size > 1 else np.arange(n)
            model = self._new()
            opt = torch.optim.Adam(model.parameters(), lr=self.lr)
            xi, li, yi = x[idx], lengths[idx], y[idx]
            model.train()
            for _ in range(self.epochs):
                opt.zero_grad()
                loss = (model(xi, li) - yi).abs().mean()  # L1
                loss.backward()
                opt.step()
            self.members.append(model.eval())
        return self

    @torch.no_grad()
    def predict(self, cells: Sequence[Sequence[Block]]) -> np.ndarray:
        x, lengths = batch(cells)
        preds = [m(x, lengths).numpy() for m in self.members]
        return np.mean(preds, axis=0)
