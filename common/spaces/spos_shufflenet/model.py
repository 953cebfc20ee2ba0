"""The network of one SPOS architecture, trained from scratch to evaluate it (Guo et al., ECCV
2020; github.com/megvii-model/SinglePathOneShot @ 36eed6c, ``src/Evaluation/template/
network.py``, class ``ShuffleNetV2_OneShot``, with ``channels_scales = (1.0,) * 20``).

3x3 stride-2 conv to 16 channels (BN, ReLU); the 20 choice blocks; 1x1 conv to 1024 (BN,
ReLU); global average pooling; dropout 0.1; a linear classifier without bias. Module names and
``nn.Sequential`` indices are the official ones (``first_conv.0``, ``features.<i>``,
``conv_last.0``, ``classifier.0``), as is the weight initialisation.

Deviation: the official ``nn.AvgPool2d(7)`` becomes a mean over the feature map. At 224x224
(a 7x7 map) the two are the same; at other sizes the official pooling would drop pixels or
fail, so this network accepts any input size divisible by 32.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from common.spaces.spos_shufflenet.blocks import make_block
from common.spaces.spos_shufflenet.space import (
    BLOCKS,
    DROP_RATE,
    HEAD_WIDTH,
    STEM_WIDTH,
    SposArch,
)


class ShuffleNetOneShot(nn.Module):
    """The SPOS evaluation network of ``arch`` (a ``SposArch`` or its 20 choice ids)."""

    def __init__(
        self,
        arch: SposArch | Sequence[int],
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = DROP_RATE,
    ) -> None:
        super().__init__()
        self.arch = arch if isinstance(arch, SposArch) else SposArch(tuple(arch))
        self.num_classes = num_classes
        self.num_features = HEAD_WIDTH
        self.first_conv = nn.Sequential(
            nn.Conv2d(in_chans, STEM_WIDTH, 3, 2, 1, bias=False),
            nn.BatchNorm2d(STEM_WIDTH),
            nn.ReLU(inplace=True),
        )
        self.features = nn.Sequential(
            *(make_block(c, spec) for c, spec in zip(self.arch.choices, BLOCKS))
        )
        self.conv_last = nn.Sequential(
            nn.Conv2d(BLOCKS[-1].out_chs, HEAD_WIDTH, 1, 1, 0, bias=False),
            nn.BatchNorm2d(HEAD_WIDTH),
            nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(drop_rate)
        self.classifier = nn.Sequential(nn.Linear(HEAD_WIDTH, num_classes, bias=False))
        self._initialize_weights()

    def _initialize_weights(self) -> None:
        """The official ``_initialize_weights``: stem conv N(0, 0.01), other convs
        N(0, 1 / fan-in-per-group), BN weight 1 and bias 1e-4, classifier N(0, 0.01)."""
        for name, m in self.named_modules():
            if isinstance(m, nn.Conv2d):
                std = 0.01 if name.startswith("first") else 1.0 / m.weight.shape[1]
                nn.init.normal_(m.weight, 0, std)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0.0001)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_last(self.features(self.first_conv(x)))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.dropout(x.mean((2, 3)))
        return x if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
