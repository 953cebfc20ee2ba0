"""The NAS-Bench-201 supernet for differentiable search (DARTS on NB-201: Dong & Yang, ICLR
2020, Sect. 5; official code xautodl/models/cell_searchs/search_model_darts.py
``TinyNetworkDarts`` and search_cells.py ``NAS201SearchCell``).

Every edge mixes all 5 ops with the softmax of its row of ``arch_parameters`` (6 x 5, init
1e-3 * randn). The skeleton is the benchmark's (stem, N cells, residual reduction, ...); the
cells' BN choices are explicit because they change results (research README item 2): the
official DARTS-on-NB-201 runs use ``affine=False`` and ``track_running_stats=True``.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn
from torch.nn import functional as F

from common.spaces.nb201.arch import EDGES, OPS, Nb201Arch
from common.spaces.nb201.ops import ResNetBasicBlock, make_op


class Nb201SearchCell(nn.Module):
    """All ops on all edges; an edge outputs ``sum_k softmax(alpha_e)_k * op_k(x)``.

    ``none`` contributes ``w * 0``: it is left out of the sum, which changes no value and no
    gradient (its weight still enters the softmax), and costs nothing.
    """

    def __init__(self, channels: int, affine: bool, track_running_stats: bool) -> None:
        super().__init__()
        self.edges = nn.ModuleDict(
            {
                f"{node}<-{inp}": nn.ModuleList(
                    make_op(op, channels, affine, track_running_stats) for op in OPS
                )
                for node, inp in EDGES
            }
        )
        self.active = [k for k, op in enumerate(OPS) if op != "none"]

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for e, (node, inp) in enumerate(EDGES):
            ops = self.edges[f"{node}<-{inp}"]
            out = sum(weights[e, k] * ops[k](nodes[inp]) for k in self.active)
            if node == len(nodes):
                nodes.append(out)
            else:
                nodes[node] = nodes[node] + out
        return nodes[-1]


class Nb201SearchNetwork(nn.Module):
    """DARTS supernet over the NB-201 cell; ``genotype()`` gives the argmax cell."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 3,
        channels: int = 16,
        cells_per_stage: int = 5,
        affine: bool = False,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        c = channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c)
        )
        self.cells = nn.ModuleList()
        for stage in range(3):
            if stage > 0:
                self.cells.append(ResNetBasicBlock(c, 2 * c, stride=2))
                c *= 2
            for _ in range(cells_per_stage):
                self.cells.append(Nb201SearchCell(c, affine, track_running_stats))
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)
        self.alphas = nn.Parameter(1e-3 * torch.randn(len(EDGES), len(OPS)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = F.softmax(self.alphas, dim=-1)
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x, weights) if isinstance(cell, Nb201SearchCell) else cell(x)
        x = self.lastact(x)
        return self.classifier(self.global_pooling(x).flatten(1))

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.alphas]

    def weight_parameters(self) -> Iterator[nn.Parameter]:
        return (p for p in self.parameters() if p is not self.alphas)

    def genotype(self) -> Nb201Arch:
        """The op with the largest alpha on each edge, ``none`` included (as the official
        ``TinyNetworkDarts.genotype``)."""
        return Nb201Arch.from_indices(self.alphas.argmax(dim=-1).tolist())
