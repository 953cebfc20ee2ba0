"""The DARTS-space supernet TE-NAS prunes (Chen et al., ICLR 2021, Sect. 4.2; official code:
VITA-Group/TENAS @9df78ff, lib/models/cell_searchs/search_model_darts_nasnet.py
``NASNetworkDARTS`` and search_cells.py ``NASNetSearchCell``, built by prune_tenas.py with
``super_type='nasnet-super'``), built on the shared skeleton
``common.supernets.darts.DartsSupernet`` with a ``MaskMixer``.

The NASNet/DARTS macro skeleton: a 3x3 conv stem (``C * stem_multiplier`` channels), then
``N`` normal cells, a reduction cell, ``N - 1`` normal cells, a reduction cell, ``N - 1``
normal cells (the skeleton's ``layers = 3N`` with reductions at N and 2N; cut after ``depth``
cells when given), then BN-ReLU, global pooling and a linear classifier. A cell outputs the
concatenation of its 4 nodes. Every edge holds the DARTS ops; its output is the mean of its
*active* ops (TE-NAS's softmax over 0 / -1000 alphas; the mixer's ``mean``), an edge with no
active op adds nothing.

Differences from the DARTS search network, all as in TE-NAS: affine BN everywhere, no BN
after the pooling ops, BN-ReLU before the pooling, and the ops are kept or dropped by a mask
instead of weighted by trained alphas. The ops themselves are the DARTS ones
(``common.spaces.darts.ops``; TE-NAS's ``DualSepConv`` / ``SepConv`` are DARTS's ``SepConv`` /
``DilConv``), built in TE-NAS's op order.

TE-NAS uses two of these for CIFAR-10: C=1, N=1, depth 2, stem multiplier 1 for the NTK
(``model_config``: a normal and a reduction cell), and the same without the stem, fed
single-channel 3x3 crops, for linear regions (``model_config_thin``).
"""

from __future__ import annotations

from functools import partial

from common.spaces.darts.genotype import STEPS, Genotype
from common.supernets.darts import DartsSupernet, edges
from common.supernets.mixers import MaskMixer

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
EDGES = edges(STEPS)
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


def darts_supernet(
    channels: int,
    cells_per_stage: int,
    num_classes: int,
    depth: int | None = None,
    use_stem: bool = True,
    stem_multiplier: int = 1,
    in_channels: int = 3,
) -> DartsSupernet:
    """TE-NAS's DARTS-space supernet (``NASNetworkDARTS``), every op but ``none`` active
    until ``set_mask``."""
    return DartsSupernet(
        C=channels,
        num_classes=num_classes,
        layers=3 * cells_per_stage,
        mixer=partial(MaskMixer, reduction="mean"),
        stem_multiplier=stem_multiplier,
        in_channels=in_channels,
        ops=TENAS_DARTS_OPS,
        affine=True,
        pool_bn=False,
        last_act=True,
        use_stem=use_stem,
        depth=depth,
    )
