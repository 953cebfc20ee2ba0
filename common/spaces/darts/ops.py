"""Candidate operations of the DARTS cell search space (Liu, Simonyan & Yang, ICLR 2019,
Sect. 3.1.1; authors' code: github.com/quark0/darts ``cnn/operations.py`` @ f276dd3).

Every op maps ``C`` channels to ``C`` channels; with ``stride=2`` (the edges leaving the two
input nodes of a reduction cell) it also halves the resolution. The choices that change
parameter counts or outputs follow the authors' code:

- convolutions are bias-free and ordered ReLU -> conv -> BN;
- ``sep_conv_KxK`` is the separable convolution applied twice (ReLU, depthwise KxK, pointwise
  1x1, BN, twice), the first depthwise conv carrying the stride, as in NASNet;
- ``dil_conv_KxK`` is a single ReLU, depthwise KxK with dilation 2, pointwise 1x1, BN;
- ``avg_pool_3x3`` averages over real pixels only (``count_include_pad=False``);
- ``skip_connect`` is the identity, or ``FactorizedReduce`` (two offset 1x1 stride-2 convs,
  concatenated, then BN) where it must reduce;
- ``none`` is a zero tensor of the output's shape (strided when the edge reduces).

Module and attribute names follow the authors' code too, so that state dicts (e.g. the released
``cifar10_model.pt``) use the same parameter names.

``sep_conv_7x7`` and ``conv_7x1_1x7`` are not in the search space (``PRIMITIVES``); the
authors' code defines them to train the NASNet-A and AmoebaNet-A cells re-encoded as
genotypes, and so does ``OPS`` here.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from common.errors import choices_error
from common.spaces.darts.genotype import ALL_OPS


class Zero(nn.Module):
    """The ``none`` op: zeros shaped like the op's output. It reads only the input's shape."""

    def __init__(self, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # ``mul(0.0)`` as in the authors' code: shape, dtype, device and autograd graph kept.
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


class _SameDepthwiseConv(torch.autograd.Function):
    """A stride-1, size-preserving depthwise convolution whose input gradient is the forward
    convolution of the output gradient with the flipped kernel: the same sum, but on the CPU
    it runs oneDNN's forward kernel, where the backward-data kernel for 5x5 and dilated
    depthwise convolutions is several times slower (measured on the development CPU, one
    thread, batch 32, 16 channels, 32x32, channels_last: 0.16 against 1.58 ms for the 3x3
    dilation-2 kernel, 0.38 against 2.58 ms for 5x5 dilation 2, 0.18 against 0.55 ms for 5x5).
    The weight gradient is the native one. The backward is made of differentiable ops, so
    double backward still works."""

    @staticmethod
    def forward(ctx, x, weight, padding: int, dilation: int):
        ctx.save_for_backward(x, weight)
        ctx.padding, ctx.dilation = padding, dilation
        return F.conv2d(x, weight, None, 1, padding, dilation, weight.shape[0])

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        pad, dil, groups = ctx.padding, ctx.dilation, weight.shape[0]
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = F.conv2d(grad, weight.flip(2, 3), None, 1, pad, dil, groups)
        if ctx.needs_input_grad[1]:
            grad_w = torch.ops.aten.convolution_backward(
                grad, x, weight, None, [1, 1], [pad, pad], [dil, dil], False, [0, 0], groups,
                [False, True, False],
            )[1]  # fmt: skip
        return grad_x, grad_w, None, None


class DepthwiseConv2d(nn.Conv2d):
    """``nn.Conv2d(c, c, k, stride, padding, dilation, groups=c, bias=False)`` (same
    parameters and names); stride-1 size-preserving ones take ``_SameDepthwiseConv``'s
    faster backward."""

    def __init__(self, c: int, kernel_size: int, stride: int, padding: int, dilation: int = 1):
        super().__init__(
            c, c, kernel_size, stride=stride, padding=padding, dilation=dilation, groups=c,
            bias=False,
        )  # fmt: skip
        self.same = stride == 1 and 2 * padding == dilation * (kernel_size - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.same and FAST_DEPTHWISE_BACKWARD and torch.is_grad_enabled():
            weight = self.weight
            if torch.is_autocast_enabled(x.device.type):  # autocast does not reach inside a
                dtype = torch.get_autocast_dtype(x.device.type)  # Function's backward
                x, weight = x.to(dtype), weight.to(dtype)
            return _SameDepthwiseConv.apply(x, weight, self.padding[0], self.dilation[0])
        return super().forward(x)


FAST_DEPTHWISE_BACKWARD = True  # False: the native backward (to compare the two)


class ReLUConvBN(nn.Module):
    """ReLU -> conv (no bias) -> BN; the 1x1 version preprocesses the cell inputs."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int,
        stride: int,
        padding: int,
        affine: bool = True,
    ) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """ReLU -> depthwise KxK conv with dilation -> pointwise 1x1 conv -> BN."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int,
        stride: int,
        padding: int,
        dilation: int,
        affine: bool = True,
    ) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            DepthwiseConv2d(c_in, kernel_size, stride, padding, dilation),
            nn.Conv2d(c_in, c_out, kernel_size=1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class SepConv(nn.Module):
    """Two stacked ReLU -> depthwise KxK -> pointwise 1x1 -> BN blocks; only the first
    depthwise conv is strided."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int,
        stride: int,
        padding: int,
        affine: bool = True,
    ) -> None:
        super().__init__()
        # One flat Sequential, so parameter names match the authors' checkpoints.
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            DepthwiseConv2d(c_in, kernel_size, stride, padding),
            nn.Conv2d(c_in, c_in, kernel_size=1, bias=False),
            nn.BatchNorm2d(c_in, affine=affine),
            nn.ReLU(inplace=False),
            DepthwiseConv2d(c_in, kernel_size, 1, padding),
            nn.Conv2d(c_in, c_out, kernel_size=1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class FactorizedReduce(nn.Module):
    """Halve the resolution without losing every other pixel: ReLU, then two 1x1 stride-2
    convs, the second on the input shifted by one pixel, concatenated (``c_out/2`` channels
    each), then BN."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of output channels, {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_after_relu(self.relu(x))

    def forward_after_relu(self, x: torch.Tensor) -> torch.Tensor:
        """The op on an input already through the ReLU (a supernet edge shares one ReLU of
        its input among the ops that start with one)."""
        shifted = x[:, :, 1:, 1:]
        if x.shape[-2] % 2 or x.shape[-1] % 2:
            # odd sizes (TE-NAS's 3x3 crops): pad the shifted input at the bottom and right,
            # as the AutoDL/TE-NAS FactorizedReduce does, so both halves have the same size
            shifted = F.pad(shifted, (0, x.shape[-1] % 2, 0, x.shape[-2] % 2))
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


class Conv7x1_1x7(nn.Module):  # named after the op conv_7x1_1x7
    """ReLU -> 1x7 conv -> 7x1 conv -> BN; the stride is split over the two convs."""

    def __init__(self, c: int, stride: int, affine: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c, c, (1, 7), stride=(1, stride), padding=(0, 3), bias=False),
            nn.Conv2d(c, c, (7, 1), stride=(stride, 1), padding=(3, 0), bias=False),
            nn.BatchNorm2d(c, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


OpFactory = Callable[[int, int, bool], nn.Module]

# Keys are exactly ``genotype.ALL_OPS``; each factory takes (channels, stride, affine).
OPS: dict[str, OpFactory] = {
    "none": lambda c, stride, affine: Zero(stride),
    "max_pool_3x3": lambda c, stride, affine: nn.MaxPool2d(3, stride=stride, padding=1),
    "avg_pool_3x3": lambda c, stride, affine: nn.AvgPool2d(
        3, stride=stride, padding=1, count_include_pad=False
    ),
    "skip_connect": lambda c, stride, affine: (
        nn.Identity() if stride == 1 else FactorizedReduce(c, c, affine=affine)
    ),
    "sep_conv_3x3": lambda c, stride, affine: SepConv(c, c, 3, stride, 1, affine=affine),
    "sep_conv_5x5": lambda c, stride, affine: SepConv(c, c, 5, stride, 2, affine=affine),
    # Dilation 2: a 3x3 kernel sees 5x5, a 5x5 kernel sees 9x9; padding keeps the size.
    "dil_conv_3x3": lambda c, stride, affine: DilConv(c, c, 3, stride, 2, 2, affine=affine),
    "dil_conv_5x5": lambda c, stride, affine: DilConv(c, c, 5, stride, 4, 2, affine=affine),
    "sep_conv_7x7": lambda c, stride, affine: SepConv(c, c, 7, stride, 3, affine=affine),
    "conv_7x1_1x7": lambda c, stride, affine: Conv7x1_1x7(c, stride, affine=affine),
}
assert tuple(OPS) == ALL_OPS, "OPS must list genotype.ALL_OPS in the same order"


def make_op(name: str, channels: int, stride: int = 1, affine: bool = True) -> nn.Module:
    """Build one edge op by name. The search network uses ``affine=False`` (DARTS App. A.1.1),
    the networks trained from a genotype ``affine=True``."""
    if name not in OPS:
        raise choices_error("DARTS op", name, ALL_OPS)
    if stride not in (1, 2):
        raise ValueError(f"DARTS ops take stride 1 or 2, got {stride}")
    return OPS[name](channels, stride, affine)
