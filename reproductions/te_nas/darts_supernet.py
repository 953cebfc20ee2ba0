"""The DARTS-space supernet TE-NAS prunes (Chen et al., ICLR 2021, Sect. 4.2; official code:
VITA-Group/TENAS @9df78ff, lib/models/cell_searchs/search_model_darts_nasnet.py
``NASNetworkDARTS`` and search_cells.py ``NASNetSearchCell``, built by prune_tenas.py with
``super_type='nasnet-super'``).

The NASNet/DARTS macro skeleton: a 3x3 conv stem (``C * stem_multiplier`` channels), then
``N`` normal cells, a reduction cell, ``N - 1`` normal cells, a reduction cell, ``N - 1``
normal cells (cut after ``depth`` cells when given), then BN-ReLU, global pooling and a linear
classifier. A cell preprocesses its two inputs (1x1 ReLU-conv-BN, or a factorized reduction
after a reduction cell), each of its 4 nodes sums its incoming edges, and it outputs the
concatenation of the 4 nodes. Every edge holds the DARTS ops; its output is the mean of its
*active* ops (TE-NAS's softmax over 0 / -1000 alphas), an edge with no active op adds nothing.

Differences from the DARTS search network (``common.spaces.darts.search_model``), all as in
TE-NAS: affine BN everywhere, no BN after the pooling ops, and the ops are kept or dropped
by a mask instead of weighted by trained alphas. The ops themselves are the DARTS ones
(``common.spaces.darts.ops``; TE-NAS's ``DualSepConv`` / ``SepConv`` are DARTS's
``SepConv`` / ``DilConv``).

TE-NAS uses two of these for CIFAR-10: C=1, N=1, depth 2, stem multiplier 1 for the NTK
(``model_config``: a normal and a reduction cell), and the same without the stem, fed
single-channel 3x3 crops, for linear regions (``model_config_thin``).
"""

from __future__ import annotations

import torch
from torch import nn

from common.spaces.darts.genotype import STEPS, Genotype
from common.spaces.darts.ops import FactorizedReduce, ReLUConvBN, make_op

# TE-NAS's DARTS_SPACE order (lib/models/cell_operations.py): the order candidates are
# visited in, which breaks ties in the rankings.
TENAS_DARTS_OPS = (
    "none",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
    "avg_pool_3x3",
    "max_pool_3x3",
)
# Edge e of a cell: (node, input); nodes 0..3 are the cell's intermediate nodes, inputs 0 and
# 1 the two cell inputs, input j >= 2 node j - 2. TE-NAS's sorted "i<-j" keys give this order.
EDGES = tuple((node, inp) for node in range(STEPS) for inp in range(node + 2))
NUM_EDGES = len(EDGES)  # 14
# prune_tenas.py prune_func_rank_group: edge_groups, the edges entering each node.
NODE_EDGE_GROUPS = tuple(
    tuple(e for e, (node, _inp) in enumerate(EDGES) if node == n) for n in range(STEPS)
)
CELL_TYPES = ("normal", "reduce")

CellMask = tuple[frozenset[str], ...]  # active ops of each of the 14 edges
DartsMask = tuple[CellMask, CellMask]  # (normal, reduce)


def full_mask(exclude: tuple[str, ...] = ("none",)) -> DartsMask:
    """Every op active except ``exclude`` (TE-NAS prunes ``none`` before the first round)."""
    cell = tuple(frozenset(op for op in TENAS_DARTS_OPS if op not in exclude) for _ in EDGES)
    return (cell, cell)


def prune(mask: DartsMask, cell: int, edge: int, op: str | None = None) -> DartsMask:
    """``mask`` without ``op`` on edge ``edge`` of cell type ``cell`` (0 normal, 1 reduce);
    without ``op``, the whole edge is removed."""
    cells = list(mask)
    cells[cell] = tuple(
        (ops - {op} if op is not None else frozenset()) if e == edge else ops
        for e, ops in enumerate(mask[cell])
    )
    return (cells[0], cells[1])


def mask_to_genotype(mask: DartsMask) -> Genotype:
    """The discrete genotype of a fully pruned mask: every node keeps two edges with one op
    each; entries per node in input order (TE-NAS's ``genotype()`` sorts the kept edges by
    their weight, all 1 here, so by input index)."""
    cells = []
    for name, cell in zip(CELL_TYPES, mask, strict=True):
        entries = []
        for node, group in enumerate(NODE_EDGE_GROUPS):
            kept = [e for e in group if cell[e]]
            if len(kept) != 2 or any(len(cell[e]) != 1 for e in kept):
                raise ValueError(
                    f"{name} cell node {node}: a genotype needs 2 edges with 1 op each, got "
                    + ", ".join(f"{EDGES[e][1]}: {sorted(cell[e])}" for e in group)
                )
            entries += [(next(iter(cell[e])), EDGES[e][1]) for e in kept]
        cells.append(entries)
    concat = tuple(range(2, 2 + STEPS))
    return Genotype(normal=cells[0], normal_concat=concat, reduce=cells[1], reduce_concat=concat)


class MaskedCell(nn.Module):
    """A search cell whose edges hold every DARTS op (``none`` too, never active here)."""

    def __init__(
        self, c_prev_prev: int, c_prev: int, c: int, reduction: bool, reduction_prev: bool
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (
            FactorizedReduce(c_prev_prev, c)
            if reduction_prev
            else ReLUConvBN(c_prev_prev, c, 1, 1, 0)
        )
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0)
        self.edges = nn.ModuleList(
            nn.ModuleDict(
                {
                    op: make_op(op, c, 2 if reduction and inp < 2 else 1, affine=True)
                    for op in TENAS_DARTS_OPS
                }
            )
            for _node, inp in EDGES
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, mask: CellMask) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node, group in enumerate(NODE_EDGE_GROUPS):
            total = None
            for e in group:
                kept = [op for op in TENAS_DARTS_OPS if op in mask[e]]
                if not kept:
                    continue  # a pruned edge: TE-NAS appends 0
                out = sum(self.edges[e][op](states[EDGES[e][1]]) for op in kept) / len(kept)
                total = out if total is None else total + out
            if total is None:
                raise ValueError(f"node {node} has no active incoming edge")
            states.append(total)
        return torch.cat(states[2:], dim=1)


class DartsTeNasSuperNet(nn.Module):
    """NASNet skeleton over ``MaskedCell``s; ``self.mask`` (normal, reduce) selects the ops."""

    def __init__(
        self,
        channels: int,
        cells_per_stage: int,
        num_classes: int,
        depth: int | None = None,
        use_stem: bool = True,
        stem_multiplier: int = 1,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        c, n = channels, cells_per_stage
        c_stem = c * stem_multiplier
        self.stem = (
            nn.Sequential(
                nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem)
            )
            if use_stem
            else nn.Identity()
        )
        widths = [c] * n + [2 * c] + [2 * c] * (n - 1) + [4 * c] + [4 * c] * (n - 1)
        reductions = [False] * n + [True] + [False] * (n - 1) + [True] + [False] * (n - 1)
        if depth is not None:
            widths, reductions = widths[:depth], reductions[:depth]
        cells = []
        c_pp, c_p, reduction_prev = c_stem, c_stem, False
        for width, reduction in zip(widths, reductions, strict=True):
            cells.append(MaskedCell(c_pp, c_p, width, reduction, reduction_prev))
            c_pp, c_p, reduction_prev = c_p, STEPS * width, reduction
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_p), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)
        self.mask: DartsMask = full_mask()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, self.mask[1] if cell.reduction else self.mask[0])
        return self.classifier(self.global_pooling(self.lastact(s1)).flatten(1))
