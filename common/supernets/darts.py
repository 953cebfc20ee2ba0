"""The DARTS / NASNet cell-space supernet skeleton (Liu, Simonyan & Yang, ICLR 2019, Sect.
2.1-2.4 and App. A.1.1; authors' code quark0/darts ``cnn/model_search.py`` @ f276dd3), one for
every weight-sharing method over the space (DARTS, TE-NAS, and the coming ENAS, PC-DARTS).

- A cell has 2 inputs (the outputs of cells k-2 and k-1, each preprocessed to ``C``
  channels: a 1x1 ReLU-conv-BN, or a factorized reduction after a reduction cell) and
  ``steps`` intermediate nodes; node ``i`` sums an edge from every earlier state, so there are
  2 + 3 + 4 + 5 = 14 edges for 4 steps, in that order. The cell outputs the concatenation of
  its last ``multiplier`` nodes.
- ``layers`` cells; those at 1/3 and 2/3 of the depth reduce (stride 2 on the edges leaving
  the inputs, twice the channels). Normal and reduction cells each share one architecture
  (cell types ``"normal"`` and ``"reduce"``), decided by the mixer.
- Options the methods differ in, explicit because they change results: ``affine`` BN in the
  cells (DARTS: no, App. A.1.1; TE-NAS and trained networks: yes), a BN after the pooling ops
  (``pool_bn``, DARTS's code), BN-ReLU before the pooling (``last_act``, TE-NAS), the stem
  (``use_stem``, ``stem_multiplier``: DARTS 3, TE-NAS 1) and a cut after ``depth`` cells.

The DARTS-derived genotype (``derive_genotype``) is the softmax mixer's; a discrete genotype
turns into a mask with ``genotype_mask``, so a supernet with ``MaskMixer`` computes exactly the
network of that genotype.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from common.spaces.darts.genotype import NUM_INPUTS, PRIMITIVES, STEPS, Entry, Genotype
from common.spaces.darts.ops import FactorizedReduce, ReLUConvBN, make_op
from common.supernets.mixers import CellMask, EdgeMixer, SoftmaxMixer

CELL_TYPES = ("normal", "reduce")
NONE_INDEX = PRIMITIVES.index("none")


def edges(steps: int = STEPS) -> tuple[tuple[int, int], ...]:
    """Edge e of a cell as (node, input): node i (0-based) reads the 2 inputs and nodes < i
    (input j >= 2 is node j - 2)."""
    return tuple((node, inp) for node in range(steps) for inp in range(NUM_INPUTS + node))


def num_edges(steps: int = STEPS) -> int:
    return len(edges(steps))


class DartsSuperCell(nn.Module):
    """A cell whose every edge holds every op of ``ops``."""

    def __init__(
        self,
        ops: Sequence[str],
        steps: int,
        multiplier: int,
        c_prev_prev: int,
        c_prev: int,
        c: int,
        reduction: bool,
        reduction_prev: bool,
        affine: bool,
        pool_bn: bool,
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.cell_type = "reduce" if reduction else "normal"
        self.preprocess0: nn.Module
        if reduction_prev:  # cell k-2's output has twice the resolution of cell k-1's
            self.preprocess0 = FactorizedReduce(c_prev_prev, c, affine=affine)
        else:
            self.preprocess0 = ReLUConvBN(c_prev_prev, c, 1, 1, 0, affine=affine)
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0, affine=affine)
        self._edges = edges(steps)
        self._multiplier = multiplier
        self.edges = nn.ModuleList(
            nn.ModuleDict(
                {
                    op: _edge_op(op, c, 2 if reduction and inp < NUM_INPUTS else 1, affine, pool_bn)
                    for op in ops
                }
            )
            for _node, inp in self._edges
        )

    def forward(
        self, s0: torch.Tensor, s1: torch.Tensor, mixer: EdgeMixer, state: object
    ) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        node_sum: torch.Tensor | None = None
        for e, (node, inp) in enumerate(self._edges):
            out = mixer.mix(self.edges[e], states[inp], e, state)
            if out is not None:
                node_sum = out if node_sum is None else node_sum + out
            if e + 1 == len(self._edges) or self._edges[e + 1][0] != node:  # node complete
                if node_sum is None:
                    raise ValueError(f"{self.cell_type} cell node {node} has no active edge")
                states.append(node_sum)
                node_sum = None
        return torch.cat(states[-self._multiplier :], dim=1)


def _edge_op(name: str, c: int, stride: int, affine: bool, pool_bn: bool) -> nn.Module:
    op = make_op(name, c, stride, affine=affine)
    if pool_bn and "pool" in name:  # DARTS code: pooling followed by a BN without affine
        op = nn.Sequential(op, nn.BatchNorm2d(c, affine=False))
    return op


class DartsSupernet(nn.Module):
    """The cell stack over ``DartsSuperCell``s, mixed by ``mixer`` (defaults: DARTS search)."""

    def __init__(
        self,
        C: int = 16,  # the paper's and the code's name
        num_classes: int = 10,
        layers: int = 8,
        mixer: Callable[..., EdgeMixer] = SoftmaxMixer,
        steps: int = STEPS,
        multiplier: int = 4,
        stem_multiplier: int = 3,
        in_channels: int = 3,  # 1 for the grey reduced-scale datasets (digits, Fashion-MNIST)
        ops: Sequence[str] = PRIMITIVES,
        affine: bool = False,
        pool_bn: bool = True,
        last_act: bool = False,
        use_stem: bool = True,
        depth: int | None = None,
    ) -> None:
        super().__init__()
        if not 1 <= multiplier <= steps:
            raise ValueError(f"multiplier must be in 1..steps={steps}, got {multiplier}")
        self._steps, self._multiplier = steps, multiplier
        c_stem = stem_multiplier * C
        self.stem = (
            nn.Sequential(
                nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem)
            )
            if use_stem
            else nn.Identity()
        )
        c_prev_prev, c_prev, c_curr = c_stem, c_stem, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers if depth is None else min(depth, layers)):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_curr *= 2
            self.cells.append(
                DartsSuperCell(
                    ops,
                    steps,
                    multiplier,
                    c_prev_prev,
                    c_prev,
                    c_curr,
                    reduction,
                    reduction_prev,
                    affine,
                    pool_bn,
                )
            )
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, multiplier * c_curr
        self.lastact = (
            nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True)) if last_act else None
        )
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)
        # last, so that its parameters do not shift the weights' random initialisation
        self.mixer = mixer(ops=tuple(ops), num_edges=num_edges(steps), cell_types=CELL_TYPES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = {t: self.mixer.state(t) for t in CELL_TYPES}
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, self.mixer, states[cell.cell_type])
        if self.lastact is not None:
            s1 = self.lastact(s1)
        return self.classifier(self.global_pooling(s1).flatten(1))

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture encoding (for DARTS alpha_normal, alpha_reduce), optimised on
        validation data; empty for a mask."""
        return list(self.mixer.parameters())

    def weight_parameters(self) -> Iterator[nn.Parameter]:
        """Every other parameter (the network weights w), optimised on training data."""
        arch = {id(p) for p in self.arch_parameters()}
        return (p for p in self.parameters() if id(p) not in arch)

    def genotype(self) -> Genotype:
        """The discrete architecture derived from the current alphas (Sect. 2.4)."""
        if not isinstance(self.mixer, SoftmaxMixer) or self.mixer.ops != PRIMITIVES:
            raise TypeError("genotype() needs a SoftmaxMixer over the DARTS PRIMITIVES")
        alphas = self.mixer.alphas
        return derive_genotype(
            alphas["normal"], alphas["reduce"], steps=self._steps, multiplier=self._multiplier
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
        kept = sorted(range(len(rows)), key=lambda j: -best_op[j][0])[:2]
        gene.extend((PRIMITIVES[best_op[j][1]], j) for j in kept)
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


def genotype_mask(genotype: Genotype, steps: int = STEPS) -> dict[str, CellMask]:
    """The mask under which a supernet computes ``genotype``: each node's chosen (op, input)
    entries switched on, every other edge off. Two entries on one edge (the same input twice)
    both stay on and, with ``reduction="sum"``, are summed as the discrete cell sums them."""
    index = {edge: e for e, edge in enumerate(edges(steps))}
    mask = {}
    for cell_type, entries in (("normal", genotype.normal), ("reduce", genotype.reduce)):
        if len(entries) != 2 * steps:
            raise ValueError(f"a {steps}-node genotype has {2 * steps} entries, got {len(entries)}")
        cell: list[set[str]] = [set() for _ in index]
        for k, (op, inp) in enumerate(entries):
            edge = cell[index[(k // 2, inp)]]
            if op in edge:
                raise ValueError(f"{cell_type} node {k // 2} has ({op!r}, {inp}) twice")
            edge.add(op)
        mask[cell_type] = tuple(frozenset(ops) for ops in cell)
    return mask
