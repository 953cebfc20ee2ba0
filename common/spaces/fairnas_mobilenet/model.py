"""The FairNAS choice block and the network of one FairNAS architecture (Chu, Zhang & Xu, ICCV
2021; github.com/xiaomi-automl/FairNAS @ fa0d393, ``models/FairNAS_{A,B,C}.py``).

Official layers and the timm modules that compute the same thing with the same parameters:

- ``stem(3, 32, 2)``: 3x3 stride-2 conv, BN, ReLU6 -> ``timm.layers.ConvNormAct``.
- ``separable_conv(32, 16)``: 3x3 depthwise, BN, ReLU6, 1x1 conv, BN (no activation, no
  residual) -> timm ``DepthwiseSeparableConv`` (``noskip=True``, ``pw_act=False``).
- ``InvertedResidual(inp, oup, k, s, t)``: 1x1 conv to ``round(inp * t)``, BN, ReLU6; kxk
  depthwise (stride s), BN, ReLU6; 1x1 conv, BN; residual when ``s == 1 and inp == oup`` ->
  timm ``InvertedResidual`` (``act_layer=ReLU6``). timm rounds the hidden width to a multiple of
  8; every width of this space already is one, and ``make_block`` checks it.
- ``conv_before_pooling(320, 1280)``: 1x1 conv, BN, ReLU6 -> ``ConvNormAct``.
- ``x.mean(3).mean(2)``, then ``Dropout(0.2)``, ``Linear(1280, n_class)`` with bias.

Module names are timm's (``conv_pw``/``bn1``/``conv_dw``/``bn2``/``conv_pwl``/``bn3``), not the
official ones (``conv1``/``bn1``/``conv2``/``bn2``/``conv3``/``bn3``); the order and shapes of the
parameters are the same. The weight initialisation is the official ``_initialize_weights``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from timm.layers import ConvNormAct
from timm.models._efficientnet_blocks import (  # their only home in timm 1.0.x
    DepthwiseSeparableConv,
    InvertedResidual,
)
from torch import nn

from common.spaces.fairnas_mobilenet.space import (
    CHOICES,
    DROP_RATE,
    HEAD_WIDTH,
    LAYER_SPECS,
    SEPARABLE_WIDTH,
    STEM_WIDTH,
    FairNasArch,
    LayerSpec,
)


def make_block(choice: int, spec: LayerSpec) -> InvertedResidual:
    """The inverted-residual block of choice id ``choice`` (index into ``CHOICES``) at layer
    ``spec``: what a single-path supernet holds six of per layer."""
    if not 0 <= choice < len(CHOICES):
        raise ValueError(f"FairNAS choice id {choice} is not one of 0..{len(CHOICES) - 1}")
    expansion, kernel = CHOICES[choice]
    block = InvertedResidual(
        spec.in_chs,
        spec.out_chs,
        dw_kernel_size=kernel,
        stride=spec.stride,
        exp_ratio=expansion,
        act_layer=nn.ReLU6,
    )
    if block.conv_pw.out_channels != round(spec.in_chs * expansion):  # the official hidden_dim
        raise ValueError(f"timm rounds the hidden width of {spec} x{expansion} differently")
    return block


class FairNasNet(nn.Module):
    """The FairNAS network of ``arch`` (a ``FairNasArch`` or its 19 choice ids)."""

    def __init__(
        self,
        arch: FairNasArch | Sequence[int],
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = DROP_RATE,
    ) -> None:
        super().__init__()
        self.arch = arch if isinstance(arch, FairNasArch) else FairNasArch(tuple(arch))
        self.num_classes = num_classes
        self.num_features = HEAD_WIDTH
        self.stem = ConvNormAct(in_chans, STEM_WIDTH, 3, stride=2, act_layer=nn.ReLU6)
        self.separable_conv = DepthwiseSeparableConv(
            STEM_WIDTH, SEPARABLE_WIDTH, dw_kernel_size=3, noskip=True, act_layer=nn.ReLU6
        )
        self.blocks = nn.Sequential(
            *(make_block(c, spec) for c, spec in zip(self.arch.choices, LAYER_SPECS))
        )
        self.conv_head = ConvNormAct(LAYER_SPECS[-1].out_chs, HEAD_WIDTH, 1, act_layer=nn.ReLU6)
        self.dropout = nn.Dropout(drop_rate)
        self.classifier = nn.Linear(HEAD_WIDTH, num_classes)
        self._initialize_weights()

    def _initialize_weights(self) -> None:
        """The official ``_initialize_weights``: convs N(0, sqrt(2 / (k * k * out_channels))),
        BN weight 1 and bias 0, linear U(-1/sqrt(out), 1/sqrt(out)) and bias 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0, math.sqrt(2.0 / n))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.weight.size(0))
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.separable_conv(self.stem(x))
        return self.conv_head(self.blocks(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.dropout(x.mean((2, 3)))
        return x if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
