"""NAS-Bench-201 candidate operations and the residual reduction block (Dong & Yang, ICLR 2020,
Sect. 2.1 and Fig. 1; official code: xautodl/models/cell_operations.py).

Every edge of an NB-201 cell maps ``C`` channels to ``C`` channels at stride 1 (the reductions
happen outside the cells, in ``ResNetBasicBlock``), so the operations here are built from one
channel count. The choices that change parameter counts or outputs follow the official code:

- convolutions are ReLU -> Conv -> BN, with a conv bias only when BN has no affine parameters;
- ``avg_pool_3x3`` has no parameters and averages over real pixels only at the border
  (``count_include_pad=False``);
- ``none`` multiplies its input by zero instead of being dropped, so a node whose inputs are
  all ``none`` is a zero tensor of the right shape.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from common.errors import choices_error


class Zero(nn.Module):
    """The ``none`` op: an all-zero output of the input's shape (cuts the edge)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # ``mul(0.0)`` as in the official code: keeps shape, dtype, device and autograd graph.
        return x.mul(0.0)


class ReLUConvBN(nn.Module):
    """ReLU -> Conv -> BN, the ``nor_conv_*`` ops and the convolutions of the residual block."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int,
        stride: int = 1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            # A bias would duplicate BN's shift; the official code adds one only without affine.
            nn.Conv2d(
                c_in,
                c_out,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                bias=not affine,
            ),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class AvgPool3x3(nn.Module):
    """3x3 average pooling, stride 1, padding excluded from the average (parameter-free)."""

    def __init__(self) -> None:
        super().__init__()
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


OpFactory = Callable[[int, bool, bool], nn.Module]

# Keys are exactly ``arch.OPS``; each factory takes (channels, affine, track_running_stats).
CELL_OPS: dict[str, OpFactory] = {
    "none": lambda c, affine, track: Zero(),
    "skip_connect": lambda c, affine, track: nn.Identity(),
    "nor_conv_1x1": lambda c, affine, track: ReLUConvBN(c, c, 1, 1, affine, track),
    "nor_conv_3x3": lambda c, affine, track: ReLUConvBN(c, c, 3, 1, affine, track),
    "avg_pool_3x3": lambda c, affine, track: AvgPool3x3(),
}


def make_op(
    name: str, channels: int, affine: bool = True, track_running_stats: bool = True
) -> nn.Module:
    """Build one cell edge op (``channels`` -> ``channels``, stride 1) by its NB-201 name.

    NB-201's benchmark networks use ``affine=True, track_running_stats=True``; weight-sharing
    supernets over the same space (DARTS/GDAS on NB-201) use ``affine=False``.
    """
    if name not in CELL_OPS:
        raise choices_error("NB-201 op", name, tuple(CELL_OPS))
    return CELL_OPS[name](channels, affine, track_running_stats)


class ResNetBasicBlock(nn.Module):
    """Residual block used between NB-201 stages: two 3x3 ReLUConvBN plus a shortcut.

    With stride 2 (the only use in NB-201) the shortcut is 2x2 average pooling followed by a
    bias-free 1x1 conv without BN; with stride 1 and a channel change it is a 1x1 ReLUConvBN;
    otherwise it is the identity.
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        stride: int = 2,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"ResNetBasicBlock stride must be 1 or 2, got {stride}")
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, affine, track_running_stats)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, affine, track_running_stats)
        self.downsample: nn.Module | None
        if stride == 2:
            self.downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(c_in, c_out, kernel_size=1, bias=False),
            )
        elif c_in != c_out:
            self.downsample = ReLUConvBN(c_in, c_out, 1, 1, affine, track_running_stats)
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))
