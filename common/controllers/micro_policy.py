"""ENAS's micro-space controller (Pham et al., ICML 2018, Sect. 2.3 and Fig. 4), as the
official code samples a cell pair: melodyguan/enas @4bcfd73 ``src/cifar10/micro_controller.py``.

An ``LstmPolicy`` (same LSTM, ``g_emb``, op embedding, op softmax, attention weights
``w_attn_1``, ``w_attn_2``, ``v_attn``) with the micro sampler instead of the macro one:

- Per cell type (normal first, then reduction, the LSTM state carried over: L79-80), two
  warm-up steps from ``g_emb`` give the two cell inputs' anchors: zeros as anchors, their
  ``h W1`` as attention keys (L135-140).
- Per node ``i`` (``2 + i`` earlier states): two input indices, each an attention over the
  keys, logits ``v . tanh(W1 h_j + W2 h)`` then temperature and ``tanh_constant * tanh``
  (L150-161); the next input is the chosen anchor (L172-173). Then two ops, logits
  ``W_soft h + b_soft`` with ``(tanh_constant / op_tanh_reduce) * tanh`` (L178-183), plus the
  fixed ``b_soft_no_learn`` = [0.25, 0.25, -0.25, ...] in the normal cell only (L106-109,
  L184-185, ``use_bias=True`` at L79); the next input is the op's embedding (L196). One more
  step gives the node's anchor and key (L198-200), and the next node starts from ``g_emb``.
- ``b_soft`` is learnt and starts at [10, 10, 0, ...] (L100-104): ``tanh`` of the first two
  logits is saturated at the start, so both sep convs start favoured.
- Entropy is each step's full categorical entropy, detached (L169-171, L193-194).

A row of decisions is ENAS's ``(normal_arc, reduce_arc)`` flattened: per node
``x_id, x_op, y_id, y_op`` (``arc_seq.write(start_id + 2 * i, ...)``, L165, L189).
"""

from __future__ import annotations

import torch

from common.controllers.lstm_policy import LstmPolicy, PolicySample

MICRO_OPS = ("sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3", "skip_connect")
CELLS = ("normal", "reduce")


class MicroLstmPolicy(LstmPolicy):
    """ENAS's micro controller over ``num_cells`` nodes per cell and ``num_branches`` ops
    (defaults: ``cifar10_micro_search.sh`` L19-20)."""

    def __init__(
        self,
        num_cells: int = 5,
        num_branches: int = 5,
        lstm_size: int = 64,
        lstm_layers: int = 1,
        tanh_constant: float | None = 1.1,
        op_tanh_reduce: float = 2.5,
        temperature: float | None = None,
    ) -> None:
        super().__init__(
            num_decisions=2 * 4 * num_cells,
            num_choices=num_branches,
            lstm_size=lstm_size,
            lstm_layers=lstm_layers,
            tanh_constant=tanh_constant,
            temperature=temperature,
            skip_attention=True,  # builds w_attn_1, w_attn_2, v_attn; the micro sampler uses them
            entropy="full",
            lstm_bias=False,
            softmax_bias=True,
            init="uniform",
        )
        self.num_cells, self.num_branches = num_cells, num_branches
        self.op_tanh_reduce = op_tanh_reduce
        with torch.no_grad():  # micro_controller.py L100-104: b_soft starts at [10, 10, 0, ...]
            self.soft[0].bias.copy_(torch.tensor([10.0, 10.0] + [0.0] * (num_branches - 2)))
        no_learn = torch.tensor([0.25, 0.25] + [-0.25] * (num_branches - 2))  # L106-109
        self.register_buffer("b_soft_no_learn", no_learn)

    @property
    def sequence_length(self) -> int:
        return 8 * self.num_cells

    def op_logits(self, h: torch.Tensor, normal: bool) -> torch.Tensor:
        logits = self.soft[0](h)
        if self.temperature is not None:
            logits = logits / self.temperature
        if self.tanh_constant is not None:
            logits = self.tanh_constant / self.op_tanh_reduce * torch.tanh(logits)
        return logits + self.b_soft_no_learn if normal else logits

    def prefix_length(self, layers: int) -> int:
        """A micro arc has no layer prefixes (NAS-RL's growing depth): always the whole arc."""
        return self.sequence_length

    def _run(self, n, forced, generator, layers=None) -> PolicySample:
        dev = self.g_emb.device
        state = None
        out: list[torch.Tensor] = []
        log_prob = torch.zeros(n, device=dev)
        entropy = torch.zeros(n, device=dev)
        col = 0
        rows = torch.arange(n, device=dev)
        for cell in CELLS:
            x = self.g_emb.expand(n, -1)
            anchors: list[torch.Tensor] = []
            keys: list[torch.Tensor] = []
            for _ in range(2):  # L135-140
                h, state = self._lstm(x, state)
                anchors.append(torch.zeros_like(h))
                keys.append(self.w_attn_1(h))
            for node in range(self.num_cells):
                for _ in range(2):  # input indices, L150-173
                    h, state = self._lstm(x, state)
                    query = torch.tanh(torch.stack(keys, 1) + self.w_attn_2(h)[:, None])
                    logits = self.logits_transform(self.v_attn(query)[..., 0])  # [n, 2 + node]
                    a, lp, ent = self._choose(logits, forced, col, 1, generator)
                    out.append(a)
                    log_prob, entropy, col = log_prob + lp, entropy + ent, col + 2
                    x = torch.stack(anchors, 1)[rows, a[:, 0]]
                col -= 3  # back to the first op column of this node
                for _ in range(2):  # ops, L175-196
                    h, state = self._lstm(x, state)
                    logits = self.op_logits(h, normal=cell == "normal")
                    a, lp, ent = self._choose(logits, forced, col, 1, generator)
                    out.append(a)
                    log_prob, entropy, col = log_prob + lp, entropy + ent, col + 2
                    x = self.emb[0](a[:, 0])
                col -= 1  # the next node's first column
                h, state = self._lstm(x, state)  # L198-201
                anchors.append(h)
                keys.append(self.w_attn_1(h))
                x = self.g_emb.expand(n, -1)
        decisions = _interleave(out, self.num_cells)
        zeros = torch.zeros(n, device=dev)
        return PolicySample(decisions, log_prob, entropy.detach(), zeros, zeros)


def _interleave(out: list[torch.Tensor], num_cells: int) -> torch.Tensor:
    """Drawn per node as ``x_id, y_id, x_op, y_op``; ENAS's row order is ``x_id, x_op, y_id,
    y_op``."""
    cols = []
    for k in range(0, len(out), 4):
        cols += [out[k], out[k + 2], out[k + 1], out[k + 3]]
    return torch.cat(cols, 1)


def split_arc(row: torch.Tensor | list[int], num_cells: int = 5) -> dict[str, list[tuple]]:
    """A decision row as ``{cell: [(x_id, x_op, y_id, y_op) per node]}``."""
    v = [int(a) for a in row]
    if len(v) != 8 * num_cells:
        raise ValueError(f"a micro arc has {8 * num_cells} decisions, got {len(v)}")
    arcs = {}
    for c, cell in enumerate(CELLS):
        part = v[4 * num_cells * c : 4 * num_cells * (c + 1)]
        arcs[cell] = [tuple(part[4 * i : 4 * i + 4]) for i in range(num_cells)]
    return arcs
