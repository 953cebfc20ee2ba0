"""The DARTS search network: a stack of cells whose edges are softmax mixtures of all candidate
ops (Liu, Simonyan & Yang, ICLR 2019, Sect. 2.1-2.2, 2.4 and App. A.1.1; authors' code:
github.com/quark0/darts ``cnn/model_search.py`` @ f276dd3).

- A cell has 2 inputs (the outputs of cells k-2 and k-1, each preprocessed to ``C`` channels)
  and ``steps`` = 4 intermediate nodes; node ``i`` sums a mixed op over every earlier state,
  so there are 2 + 3 + 4 + 5 = 14 edges. The output concatenates the last ``multiplier``
  nodes.
- Cells at 1/3 and 2/3 of the depth reduce: edges leaving the two inputs have stride 2 and
  the channel count doubles.
- All normal cells share ``alphas_normal`` and all reduction cells ``alphas_reduce``, each of
  shape (14, 8): one row per edge (in the order above), one column per op of ``PRIMITIVES``.
- BN in the cells has no affine parameters (App. A.1.1: "to avoid rescaling the outputs of
  the candidate operations"), and pooling ops are followed by such a BN, as in the code. The
  stem BN keeps its affine parameters, as in the code.

Deviations from the code, both without effect on results: the alphas are registered
``nn.Parameter``s (so they move with the module and are saved with it), kept apart from the
weights by ``arch_parameters()`` / ``weight_parameters()``; ``forward`` returns logits and the
loss is left to the caller (the code's network holds the criterion).

Initialisation: the code draws alphas from ``1e-3 * randn``; App. A.1.1 says zero init. We
follow the code (the softmax is uniform to within 1e-3 either way).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from common.spaces.darts.genotype import NUM_INPUTS, PRIMITIVES, STEPS, Entry, Genotype
from common.spaces.darts.ops import FactorizedReduce, ReLUConvBN, Zero, make_op

NONE_INDEX = PRIMITIVES.index("none")


def num_edges(steps: int = STEPS) -> int:
    """Edges of a search cell: node i reads the 2 inputs and the i earlier nodes."""
    return sum(NUM_INPUTS + i for i in range(steps))


class MixedOp(nn.Module):
    """One edge: ``sum_o w_o * o(x)`` over ``PRIMITIVES`` for softmax weights ``w``.

    The ``none`` op is not evaluated: ``w_none * 0`` adds nothing to the output and its
    gradient with respect to ``w_none`` is 0, so leaving it out changes neither the output
    nor any gradient (the weight still enters the softmax, so ``alpha_none`` keeps its
    gradient through the other weights). Other ops are always evaluated, even at weight 0:
    their output is still needed for the gradient with respect to their weight, and their BN
    running statistics still update, as in the authors' code.
    """

    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self._ops = nn.ModuleList()
        for primitive in PRIMITIVES:
            op = make_op(primitive, channels, stride, affine=False)
            if "pool" in primitive:
                op = nn.Sequential(op, nn.BatchNorm2d(channels, affine=False))
            self._ops.append(op)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor | None = None
        for w, op in zip(weights, self._ops, strict=True):
            if isinstance(op, Zero):
                continue
            term = w * op(x)
            out = term if out is None else out + term
        assert out is not None  # PRIMITIVES has ops other than none
        return out


class SearchCell(nn.Module):
    """A search cell with ``steps`` nodes and ``num_edges(steps)`` mixed-op edges."""

    def __init__(
        self,
        steps: int,
        multiplier: int,
        c_prev_prev: int,
        c_prev: int,
        c: int,
        reduction: bool,
        reduction_prev: bool,
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0: nn.Module
        if reduction_prev:  # cell k-2's output has twice the resolution of cell k-1's
            self.preprocess0 = FactorizedReduce(c_prev_prev, c, affine=False)
        else:
            self.preprocess0 = ReLUConvBN(c_prev_prev, c, 1, 1, 0, affine=False)
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0, affine=False)
        self._steps = steps
        self._multiplier = multiplier
        self._ops = nn.ModuleList(
            MixedOp(c, 2 if reduction and j < NUM_INPUTS else 1)
            for i in range(steps)
            for j in range(NUM_INPUTS + i)
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        offset = 0
        for _ in range(self._steps):
            s = sum(self._ops[offset + j](h, weights[offset + j]) for j, h in enumerate(states))
            offset += len(states)
            states.append(s)  # type: ignore[arg-type]
        return torch.cat(states[-self._multiplier :], dim=1)


class DartsSearchNetwork(nn.Module):
    """The supernet of the DARTS CNN search (App. A.1.1: 8 cells, 16 initial channels)."""

    def __init__(
        self,
        C: int = 16,  # the paper's and the code's name
        num_classes: int = 10,
        layers: int = 8,
        steps: int = STEPS,
        multiplier: int = 4,
        stem_multiplier: int = 3,
        in_channels: int = 3,  # 1 for the grey reduced-scale datasets (digits, Fashion-MNIST)
    ) -> None:
        super().__init__()
        if not 1 <= multiplier <= steps:
            raise ValueError(f"multiplier must be in 1..steps={steps}, got {multiplier}")
        self._C = C
        self._num_classes = num_classes
        self._layers = layers
        self._steps = steps
        self._multiplier = multiplier

        c_curr = stem_multiplier * C
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c_curr, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_curr),
        )
        c_prev_prev, c_prev, c_curr = c_curr, c_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_curr *= 2
            cell = SearchCell(
                steps, multiplier, c_prev_prev, c_prev, c_curr, reduction, reduction_prev
            )
            reduction_prev = reduction
            self.cells.append(cell)
            c_prev_prev, c_prev = c_prev, multiplier * c_curr
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

        k, n = num_edges(steps), len(PRIMITIVES)
        self.alphas_normal = nn.Parameter(1e-3 * torch.randn(k, n))
        self.alphas_reduce = nn.Parameter(1e-3 * torch.randn(k, n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w_normal = F.softmax(self.alphas_normal, dim=-1)
        w_reduce = F.softmax(self.alphas_reduce, dim=-1)
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, w_reduce if cell.reduction else w_normal)
        return self.classifier(self.global_pooling(s1).flatten(1))

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture encoding (alpha_normal, alpha_reduce), optimised on validation data."""
        return [self.alphas_normal, self.alphas_reduce]

    def weight_parameters(self) -> Iterator[nn.Parameter]:
        """Every other parameter (the network weights w), optimised on training data."""
        arch = {id(p) for p in self.arch_parameters()}
        return (p for p in self.parameters() if id(p) not in arch)

    def genotype(self) -> Genotype:
        """The discrete architecture derived from the current alphas (Sect. 2.4)."""
        return derive_genotype(
            self.alphas_normal, self.alphas_reduce, steps=self._steps, multiplier=self._multiplier
        )


def derive_cell(alphas: torch.Tensor, steps: int = STEPS) -> list[Entry]:
    """Sect. 2.4 on one cell, as ``_parse`` in the authors' code does it.

    With weights ``softmax(alphas)`` per edge: for each node keep the 2 input edges whose
    strongest non-``none`` op weighs most, and on each kept edge that strongest op. ``none``
    never counts, however large its weight. Ties go to the lower input index, then to the op
    earlier in ``PRIMITIVES`` (the code's stable sort and strict ``>``).
    """
    if alphas.shape != (num_edges(steps), len(PRIMITIVES)):
        raise ValueError(
            f"alphas must have shape ({num_edges(steps)}, {len(PRIMITIVES)}), got"
            f" {tuple(alphas.shape)}"
        )
    weights = F.softmax(alphas.detach().float().cpu(), dim=-1).tolist()
    gene: list[Entry] = []
    start = 0
    for i in range(steps):
        rows = weights[start : start + NUM_INPUTS + i]
        best_op = []  # (weight, op index) of the strongest non-none op of each input edge
        for row in rows:
            k_best = max(
                (k for k in range(len(row)) if k != NONE_INDEX), key=lambda k: (row[k], -k)
            )
            best_op.append((row[k_best], k_best))
        edges = sorted(range(len(rows)), key=lambda j: -best_op[j][0])[:2]
        gene.extend((PRIMITIVES[best_op[j][1]], j) for j in edges)
        start += len(rows)
    return gene


def derive_genotype(
    alphas_normal: torch.Tensor,
    alphas_reduce: torch.Tensor,
    steps: int = STEPS,
    multiplier: int = 4,
) -> Genotype:
    """The genotype of a pair of alpha matrices; both cells output their last ``multiplier``
    nodes, as the search network does."""
    concat = tuple(range(NUM_INPUTS + steps - multiplier, NUM_INPUTS + steps))
    return Genotype(
        normal=tuple(derive_cell(alphas_normal, steps)),
        normal_concat=concat,
        reduce=tuple(derive_cell(alphas_reduce, steps)),
        reduce_concat=concat,
    )
