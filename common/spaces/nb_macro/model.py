"""The NAS-Bench-Macro network, built as the benchmark's own code builds it (Su et al., CVPR
2021; official code xiusu/NAS-Bench-Macro @61a2bfc, train/model.py ``Network``).

stem: 3x3 conv 3 -> 32 + BN + ReLU; 8 searchable layers in stages of 2, 3, 3 (the first of
each stage stride 2, channels 32 -> 64 -> 128 -> 256); head: 1x1 conv 256 -> 1280 + BN + ReLU,
global average pooling, linear 1280 -> 10. Every conv is bias-free, every BN affine with
running statistics, all weights keep PyTorch's default initialisation (the official code sets
none). Module names follow the official ones (``stem``, ``features``, ``out``, ``classifier``,
``conv``, ``downsample``), so an official state dict loads as is.

What the benchmark file's numbers count (checked for all 6,561 codes in the tests):
``params`` is every parameter (conv weights, BN weights and biases, linear weight and bias) as a
plain count, despite its ``count_parameters_in_MB`` name (train/utils.py); ``flops`` is
multiply-adds of the convs and the linear layer only (``count_FLOPs``: no BN, ReLU, residual
add, pooling or linear bias), which ``macs`` reproduces with torch's flop counter.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from common.spaces.nb_macro.arch import OPS, STAGES, MacroArch

INIT_CHANNELS = 32  # Network(init_channels=32), train/model.py @61a2bfc
HEAD_CHANNELS = 1280  # self.out: Conv2d(channels, 1280, 1), train/model.py @61a2bfc
# (expansion t, kernel k) of the two blocks: OPS['ir_3x3_t3'], OPS['ir_5x5_t6'], train/model.py
BLOCKS = {"ir_3x3_t3": (3, 3), "ir_5x5_t6": (6, 5)}


class MacroIdentity(nn.Module):
    """The official ``Identity``: nothing where shape is kept; a 1x1 conv (with the stride) +
    BN where stride or channels change, i.e. in the first layer of every stage."""

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        self.downsample = (
            nn.Sequential(
                nn.Conv2d(inp, oup, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(oup),
            )
            if stride != 1 or inp != oup
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.downsample is None else self.downsample(x)


class InvertedResidual(nn.Module):
    """MobileNetV2 block (Sandler et al., CVPR 2018) as the official ``InvertedResidual`` with
    ``t > 1``: 1x1 conv to ``round(inp * t)`` + BN + ReLU, kxk depthwise conv (stride,
    padding k // 2) + BN + ReLU, 1x1 conv to ``oup`` + BN; the input is added back where the
    shape is kept (stride 1, ``inp == oup``)."""

    def __init__(self, inp: int, oup: int, stride: int, expansion: int, kernel: int) -> None:
        super().__init__()
        hidden = round(inp * expansion)
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hidden, 1, 1, 0, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                hidden, hidden, kernel, stride, padding=kernel // 2, groups=hidden, bias=False
            ),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        )
        self.use_shortcut = inp == oup and stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return out + x if self.use_shortcut else out


def make_op(op: str, inp: int, oup: int, stride: int) -> nn.Module:
    """One candidate op of a searchable layer, by its official name (``OPS``)."""
    if op == "id":
        return MacroIdentity(inp, oup, stride)
    if op in BLOCKS:
        expansion, kernel = BLOCKS[op]
        return InvertedResidual(inp, oup, stride, expansion, kernel)
    raise ValueError(f"unknown NAS-Bench-Macro op {op!r}; valid: {', '.join(OPS)}")


def layer_shapes(
    init_channels: int = INIT_CHANNELS, stages: tuple[int, ...] = STAGES
) -> list[tuple[int, int, int]]:
    """``(in_channels, out_channels, stride)`` of each searchable layer, in order."""
    shapes, c = [], init_channels
    for n in stages:
        for i in range(n):
            shapes.append((c, 2 * c, 2) if i == 0 else (c, c, 1))
            c = shapes[-1][1]
    return shapes


def make_stem(in_channels: int, init_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, init_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(init_channels),
        nn.ReLU(inplace=True),
    )


def make_head(channels: int, head_channels: int) -> nn.Sequential:
    """The official ``out``: 1x1 conv + BN + ReLU + global average pooling."""
    return nn.Sequential(
        nn.Conv2d(channels, head_channels, kernel_size=1, bias=False, stride=1),
        nn.BatchNorm2d(head_channels),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1),
    )


class MacroNetwork(nn.Module):
    """The benchmark network of ``arch``; ``forward`` returns logits."""

    def __init__(
        self,
        arch: MacroArch,
        num_classes: int = 10,
        in_channels: int = 3,
        init_channels: int = INIT_CHANNELS,
        head_channels: int = HEAD_CHANNELS,
    ) -> None:
        super().__init__()
        self.arch = arch
        shapes = layer_shapes(init_channels)
        self.stem = make_stem(in_channels, init_channels)
        self.features = nn.Sequential(
            *(make_op(op, *shape) for op, shape in zip(arch.ops, shapes, strict=True))
        )
        self.out = make_head(shapes[-1][1], head_channels)
        self.classifier = nn.Linear(head_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.out(self.features(self.stem(x)))
        return self.classifier(x.flatten(1))


def num_params(net: nn.Module) -> int:
    """Every parameter, counted as the benchmark's ``params`` column counts it."""
    return sum(p.numel() for p in net.parameters())


def macs(net: nn.Module, input_size: int = 32, in_channels: int = 3) -> int:
    """Multiply-adds of one forward on one ``input_size`` image: half of torch's flop count,
    which counts 2 flops per multiply-add of convolutions and matrix products and nothing
    else. Works on a network built on the ``meta`` device (no memory, no compute)."""
    param = next(net.parameters())
    x = torch.zeros(1, in_channels, input_size, input_size, device=param.device)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x)
    return counter.get_total_flops() // 2
