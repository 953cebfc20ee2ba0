"""The NAS-Bench-201 network: one cell repeated in three stages (Dong & Yang, ICLR 2020,
Sect. 2.1 and Fig. 1; official code: xautodl/models/cell_infers/tiny_network.py and cells.py).

Skeleton: 3x3 conv stem + BN -> N cells (C) -> residual block C->2C, stride 2 -> N cells (2C)
-> residual block 2C->4C, stride 2 -> N cells (4C) -> BN + ReLU -> global average pool ->
linear. The benchmark uses C=16, N=5, BN with affine parameters and running statistics.

One deviation from the official ``TinyNetwork``: ``forward`` returns the logits only (the
official one returns ``(pooled_features, logits)``), so any classifier trainer can use it.
"""

from __future__ import annotations

import torch
from torch import nn

from common.spaces.nb201.arch import EDGES, Nb201Arch
from common.spaces.nb201.ops import ResNetBasicBlock, make_op


class Nb201Cell(nn.Module):
    """A cell: node 0 is the input, node i (1..3) is the sum of its ops over all earlier nodes,
    and the output is node 3. Channels and resolution are unchanged.

    Edge ops live in ``self.edges`` keyed ``"<node><-<input>"`` (e.g. ``"3<-1"``), in
    ``EDGES`` order.
    """

    def __init__(
        self,
        arch: Nb201Arch,
        channels: int,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.arch = arch
        self.edges = nn.ModuleDict(
            {
                f"{node}<-{inp}": make_op(op, channels, affine, track_running_stats)
                for (node, inp), op in zip(EDGES, arch.ops, strict=True)
            }
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        # EDGES is sorted by target node, so every input node is complete before it is read.
        for (node, inp), op in zip(EDGES, self.edges.values(), strict=True):
            out = op(nodes[inp])
            if node == len(nodes):
                nodes.append(out)
            else:
                nodes[node] = nodes[node] + out
        return nodes[-1]


class Nb201Network(nn.Module):
    """The NB-201 benchmark network for one cell ``arch``; ``forward`` returns logits."""

    def __init__(
        self,
        arch: Nb201Arch,
        num_classes: int,
        in_channels: int = 3,
        channels: int = 16,
        cells_per_stage: int = 5,
    ) -> None:
        super().__init__()
        self.arch = arch
        c = channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c),
        )
        layers: list[nn.Module] = []
        for stage in range(3):
            if stage > 0:
                layers.append(ResNetBasicBlock(c, 2 * c, stride=2))
                c *= 2
            layers.extend(Nb201Cell(arch, c) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.global_pooling(x).flatten(1))


def _conv_bn(c_in: int, c_out: int, kernel_size: int) -> int:
    """Parameters of a bias-free conv followed by an affine BN (weight and bias per channel)."""
    return kernel_size * kernel_size * c_in * c_out + 2 * c_out


def _count_params(
    n1x1: int, n3x3: int, num_classes: int, in_channels: int, channels: int, cells_per_stage: int
) -> int:
    c = channels
    total = _conv_bn(in_channels, c, 3)  # stem
    for stage in range(3):
        if stage > 0:  # residual block c -> 2c: two 3x3 ReLUConvBN + 1x1 shortcut conv, no BN
            total += _conv_bn(c, 2 * c, 3) + _conv_bn(2 * c, 2 * c, 3) + c * 2 * c
            c *= 2
        # Only the two convolution ops carry parameters; none/skip/avg-pool have none.
        total += cells_per_stage * (n1x1 * _conv_bn(c, c, 1) + n3x3 * _conv_bn(c, c, 3))
    return total + 2 * c + c * num_classes + num_classes  # last BN, linear classifier


def count_params(
    arch: Nb201Arch,
    num_classes: int,
    in_channels: int = 3,
    channels: int = 16,
    cells_per_stage: int = 5,
) -> int:
    """Number of parameters of ``Nb201Network`` with these arguments, without building it.

    Counts every ``nn.Parameter`` (BN affine weights and biases included, running statistics
    excluded), as the official ``count_parameters_in_MB`` does. Depends on the cell only
    through its number of 1x1 and 3x3 convolutions.
    """
    n1x1, n3x3 = arch.ops.count("nor_conv_1x1"), arch.ops.count("nor_conv_3x3")
    return _count_params(n1x1, n3x3, num_classes, in_channels, channels, cells_per_stage)


def count_params_m(
    arch: Nb201Arch,
    num_classes: int,
    in_channels: int = 3,
    channels: int = 16,
    cells_per_stage: int = 5,
) -> float:
    """``count_params`` in millions (divided by 1e6, as the NB-201 table's ``params`` column);
    the table rounds it to 6 decimals."""
    return count_params(arch, num_classes, in_channels, channels, cells_per_stage) / 1e6
