"""The operations of the NASNet / PNAS cell, as TF-slim ``nasnet_utils.py`` @ 08eebbc builds the
ones the released cells use (``_apply_conv_operation``, ``_stacked_separable_conv``,
``factorized_reduction``), with timm's conv and pool layers.

Every op maps a hidden state with ``c_in`` channels to one with ``filters`` channels; the
stride applies only to ops reading the cell's two inputs (TF: "Dont stride if this is not one
of the original hiddenstates"). Layers carry no biases (TF arg scope ``biases_initializer=
None``); batch norm has a scale and an offset (``'scale': True``).

- ``sep_conv_kxk`` is TF's ``separable_kxk_2``: ReLU, depthwise kxk (stride) + pointwise to
  ``filters``, BN, then ReLU, depthwise kxk + pointwise, BN.
- ``identity`` is a no-op unless a stride or a channel change is needed, then ReLU, strided
  1x1 conv, BN.
- pools: the pool (average pooling excludes the padding, as TF's SAME pooling does), then a
  1x1 conv + BN (no ReLU) where the channels differ.
- The ops the released cells do not use (``conv_*``, ``dil_conv_3x3``) are not in TF-slim;
  here they are ReLU-conv-BN like the rest (our reading of NASNet Sect. 3's list: full, not
  depthwise, convolutions; ``conv_1x7_7x1`` strides in both of its convs' own direction and
  keeps ``filters`` channels in between; ``dil_conv_3x3`` has dilation 2).
"""

from __future__ import annotations

import torch
from timm.layers import create_conv2d, create_pool2d
from torch import nn

from common.errors import choices_error
from common.spaces.nasnet.cell import NASNET_OPS


def bn(channels: int, eps: float) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=eps)


class SepConvStack(nn.Sequential):
    """TF ``_stacked_separable_conv`` with two layers (``separable_kxk_2``)."""

    def __init__(self, c_in: int, filters: int, k: int, stride: int, eps: float) -> None:
        layers: list[nn.Module] = []
        for ci, s in ((c_in, stride), (filters, 1)):
            layers += [
                nn.ReLU(),
                create_conv2d(ci, ci, k, stride=s, depthwise=True, bias=False),
                create_conv2d(ci, filters, 1, bias=False),
                bn(filters, eps),
            ]
        super().__init__(*layers)


class ReluConvBn(nn.Sequential):
    """ReLU, one conv or a (1xk, kx1) pair, BN."""

    def __init__(
        self, c_in: int, filters: int, kernels: tuple, stride: int, eps: float, dilation: int = 1
    ) -> None:
        convs: list[nn.Module] = []
        ci = c_in
        for kernel in kernels:
            if isinstance(kernel, int):
                conv = create_conv2d(
                    ci, filters, kernel, stride=stride, dilation=dilation, bias=False
                )
            else:  # (1, k) strides along the width, (k, 1) along the height
                s = (1, stride) if kernel[0] == 1 else (stride, 1)
                pad = (kernel[0] // 2, kernel[1] // 2)
                conv = nn.Conv2d(ci, filters, kernel, stride=s, padding=pad, bias=False)
            convs.append(conv)
            ci = filters
        super().__init__(nn.ReLU(), *convs, bn(filters, eps))


class Pool(nn.Module):
    def __init__(self, kind: str, k: int, c_in: int, filters: int, stride: int, eps: float):
        super().__init__()
        extra = {"count_include_pad": False} if kind == "avg" else {}
        self.pool = create_pool2d(kind, k, stride=stride, padding="", **extra)
        self.proj = (
            nn.Sequential(create_conv2d(c_in, filters, 1, bias=False), bn(filters, eps))
            if c_in != filters
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.pool(x))


def make_op(name: str, c_in: int, filters: int, stride: int, eps: float) -> nn.Module:
    """The module of op ``name`` (a NASNet op name) from ``c_in`` to ``filters`` channels."""
    if name == "identity":
        if stride == 1 and c_in == filters:
            return nn.Identity()
        return ReluConvBn(c_in, filters, (1,), stride, eps)
    if name.startswith("sep_conv_"):
        return SepConvStack(c_in, filters, int(name[-1]), stride, eps)
    if "_pool_" in name:
        return Pool(name[:3], int(name[-1]), c_in, filters, stride, eps)
    if name == "conv_1x1":
        return ReluConvBn(c_in, filters, (1,), stride, eps)
    if name == "conv_3x3":
        return ReluConvBn(c_in, filters, (3,), stride, eps)
    if name == "dil_conv_3x3":
        return ReluConvBn(c_in, filters, (3,), stride, eps, dilation=2)
    if name in ("conv_1x3_3x1", "conv_1x7_7x1"):
        k = int(name[len("conv_1x")])
        return ReluConvBn(c_in, filters, ((1, k), (k, 1)), stride, eps)
    raise choices_error("NASNet op", name, NASNET_OPS)


class FactorizedReduction(nn.Module):
    """TF ``factorized_reduction``: with stride 2, two strided 1x1 convs (the second on the
    input shifted by one pixel), concatenated, BN; with stride 1, a 1x1 conv and BN. No ReLU
    unless asked: the callers add it where TF does. An odd ``filters`` gives the second path
    the extra channel, as the later TF-slim ``nasnet_utils.py`` (the one with
    ``use_bounded_activation``, which ``pnasnet.py`` @ 03cdc5f calls) does; 08eebbc asserts an
    even count, which PNASNet-5 Mobile's 27-filter stem cell would fail."""

    def __init__(self, c_in: int, filters: int, stride: int, eps: float, relu: bool) -> None:
        super().__init__()
        self.relu = nn.ReLU() if relu else nn.Identity()
        self.stride = stride
        first = filters // 2 if stride == 2 else filters
        self.path1 = create_conv2d(c_in, first, 1, bias=False)
        self.path2 = create_conv2d(c_in, filters - first, 1, bias=False) if stride == 2 else None
        self.bn = bn(filters, eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        if self.path2 is None:
            return self.bn(self.path1(x))
        p1 = self.path1(x[:, :, :: self.stride, :: self.stride])
        shifted = nn.functional.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        p2 = self.path2(shifted[:, :, :: self.stride, :: self.stride])
        return self.bn(torch.cat([p1, p2], dim=1))
