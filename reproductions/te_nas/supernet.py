"""The NB-201 supernet TE-NAS prunes (Chen et al., ICLR 2021, Sect. 3.2; official code:
VITA-Group/TENAS @9df78ff, lib/models/cell_searchs/search_model_darts.py ``TinyNetworkDarts``
and search_cells.py ``NAS201SearchCell``).

Every edge holds every candidate op; an edge's output is the mean of its *active* ops. This
is TE-NAS's DARTS-style mixture with architecture weights 0 for kept ops and -1000 for
pruned ones: the softmax gives each of the k kept ops 1/k, and ops with weight <= 0.01 are
skipped (``w > 0.01 else 0``), so pruned ops are not computed at all. The skeleton is the
NB-201 one (stem, N cells, residual reduction, ...), cut after ``depth`` layers when given;
without a stem the input goes straight into the first cell.

TE-NAS uses two of these: C=3, N=1 with stem for the NTK (``model_config``) and C=1, N=1,
depth 1, no stem for linear regions on 1-channel 3x3 crops (``model_config_thin``).
"""

from __future__ import annotations

import torch
from torch import nn

from common.spaces.nb201.arch import EDGES, OPS, Nb201Arch
from common.spaces.nb201.ops import ResNetBasicBlock, make_op

Mask = tuple[frozenset[str], ...]  # the active ops of each of the 6 edges, in EDGES order


def full_mask(exclude: tuple[str, ...] = ("none",)) -> Mask:
    """Every op active except ``exclude`` (TE-NAS sets ``alpha[:, 0] = -INF``: ``none`` is
    pruned before the first round)."""
    return tuple(frozenset(op for op in OPS if op not in exclude) for _ in EDGES)


def prune(mask: Mask, edge: int, op: str) -> Mask:
    return tuple(ops - {op} if e == edge else ops for e, ops in enumerate(mask))


def mask_to_arch(mask: Mask) -> Nb201Arch:
    if any(len(ops) != 1 for ops in mask):
        raise ValueError("only a single-path mask is an architecture")
    return Nb201Arch(tuple(next(iter(ops)) for ops in mask))


class MixedCell(nn.Module):
    """An NB-201 cell with all ops on every edge, mixing the active ones with equal weights."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleDict(
            {
                f"{node}<-{inp}": nn.ModuleDict({op: make_op(op, channels) for op in OPS})
                for node, inp in EDGES
            }
        )

    def forward(self, x: torch.Tensor, mask: Mask) -> torch.Tensor:
        nodes = [x]
        for e, (node, inp) in enumerate(EDGES):
            ops = self.edges[f"{node}<-{inp}"]
            kept = [op for op in OPS if op in mask[e]]
            weight = 1.0 / len(kept)
            out = sum(ops[op](nodes[inp]) * weight for op in kept)
            if node == len(nodes):
                nodes.append(out)
            else:
                nodes[node] = nodes[node] + out
        return nodes[-1]


class Nb201SuperNet(nn.Module):
    """NB-201 skeleton over ``MixedCell``s; ``self.mask`` selects the active ops."""

    def __init__(
        self,
        channels: int,
        cells_per_stage: int,
        num_classes: int,
        use_stem: bool = True,
        depth: int | None = None,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        c = channels
        self.stem = (
            nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
            if use_stem
            else nn.Identity()
        )
        layers: list[nn.Module] = []
        for stage in range(3):
            if stage > 0:
                layers.append(ResNetBasicBlock(c, 2 * c, stride=2))
                c *= 2
            layers.extend(MixedCell(c) for _ in range(cells_per_stage))
        if depth is not None:
            layers = layers[:depth]
            c = channels * 2 ** sum(isinstance(m, ResNetBasicBlock) for m in layers)
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)
        self.mask: Mask = full_mask()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for layer in self.cells:
            x = layer(x, self.mask) if isinstance(layer, MixedCell) else layer(x)
        x = self.global_pooling(self.lastact(x)).flatten(1)
        return self.classifier(x)


def kaiming_normal_init(net: nn.Module, mode: str) -> None:
    """TE-NAS's intended init (``kaiming_normal_fanin_init`` / ``_fanout_init``): conv and
    linear weights Kaiming-normal for ReLU, biases 0, BN scale 1 and shift 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode=mode, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
