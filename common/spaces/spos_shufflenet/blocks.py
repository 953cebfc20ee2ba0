"""The four SPOS choice blocks, each built from one choice id (Guo et al., ECCV 2020, Sect. 4.1;
github.com/megvii-model/SinglePathOneShot @ 36eed6c, ``src/Evaluation/template/blocks.py``).

All are ShuffleNetV2 units. At stride 1 the input is split into two halves: one passes
unchanged, the other goes through the main branch, and the two are concatenated. At stride 2
(first block of a stage) the whole input feeds both the main branch and a projection branch
(depthwise conv + 1x1 conv). Layer order, BN/ReLU placement and ``nn.Sequential`` indices are
the official ones, so the official state-dict keys (``branch_main.<i>``, ``branch_proj.<i>``)
apply unchanged.

- ShuffleNN (N = 3, 5, 7): 1x1 conv, BN, ReLU; NxN depthwise (stride here), BN;
  1x1 conv, BN, ReLU. The projection branch uses the same NxN kernel.
- Xception: three (3x3 depthwise, BN, 1x1 conv, BN, ReLU) rounds, the first depthwise
  carrying the stride.

``make_block(choice, spec)`` is the one entry point, so a single-path supernet can hold all
four choices of a position side by side.
"""

from __future__ import annotations

import torch
from torch import nn

from common.spaces.spos_shufflenet.space import CHOICES, KERNELS, BlockSpec


def channel_split(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Even channels (passed through) and odd channels (fed to the main branch): exactly the
    two halves of the official ``channel_shuffle`` (template/blocks.py), which reshapes to
    (B*C/2, 2, HW) and takes index 0 and 1 of the pair axis. Applied before every stride-1
    block, it is ShuffleNetV2's channel shuffle."""
    if x.shape[1] % 4:
        raise ValueError(f"channel_split needs a channel count divisible by 4, got {x.shape[1]}")
    return x[:, 0::2], x[:, 1::2]


def _dw_bn(chs: int, kernel: int, stride: int) -> list[nn.Module]:
    conv = nn.Conv2d(chs, chs, kernel, stride, kernel // 2, groups=chs, bias=False)
    return [conv, nn.BatchNorm2d(chs)]


def _pw_bn_relu(in_chs: int, out_chs: int) -> list[nn.Module]:
    return [nn.Conv2d(in_chs, out_chs, 1, 1, 0, bias=False), nn.BatchNorm2d(out_chs), nn.ReLU(True)]


class ShuffleChoiceBlock(nn.Module):
    """A ShuffleNetV2 unit whose main branch is ``main``: the base of both block kinds.

    ``branch_in`` is the width the main branch reads (half the input at stride 1, all of it at
    stride 2; the official ``inp``); the main branch writes ``out_chs - branch_in`` channels
    and the pass-through or projection branch the other ``branch_in``."""

    def __init__(self, spec: BlockSpec, kernel: int, main: list[nn.Module]) -> None:
        super().__init__()
        if spec.stride not in (1, 2) or (spec.stride == 1 and spec.in_chs != spec.out_chs):
            raise ValueError(f"a stride-1 SPOS block keeps its width; got {spec}")
        self.stride = spec.stride
        self.branch_main = nn.Sequential(*main)
        if self.stride == 2:
            chs = spec.in_chs
            self.branch_proj = nn.Sequential(*_dw_bn(chs, kernel, 2), *_pw_bn_relu(chs, chs))

    @staticmethod
    def branch_in(spec: BlockSpec) -> int:
        return spec.in_chs if spec.stride == 2 else spec.in_chs // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x_pass, x_main = channel_split(x)
            return torch.cat((x_pass, self.branch_main(x_main)), 1)
        return torch.cat((self.branch_proj(x), self.branch_main(x)), 1)


class ShuffleBlock(ShuffleChoiceBlock):
    """ShuffleNN: pointwise, NxN depthwise, pointwise (official ``Shufflenet``)."""

    def __init__(self, spec: BlockSpec, kernel: int) -> None:
        inp, mid = self.branch_in(spec), spec.mid_chs
        main = [
            *_pw_bn_relu(inp, mid),
            *_dw_bn(mid, kernel, spec.stride),
            *_pw_bn_relu(mid, spec.out_chs - inp),
        ]
        super().__init__(spec, kernel, main)


class XceptionBlock(ShuffleChoiceBlock):
    """Xception: three depthwise 3x3 + pointwise rounds (official ``Shuffle_Xception``)."""

    def __init__(self, spec: BlockSpec) -> None:
        inp, mid = self.branch_in(spec), spec.mid_chs
        main = [
            *_dw_bn(inp, 3, spec.stride),
            *_pw_bn_relu(inp, mid),
            *_dw_bn(mid, 3, 1),
            *_pw_bn_relu(mid, mid),
            *_dw_bn(mid, 3, 1),
            *_pw_bn_relu(mid, spec.out_chs - inp),
        ]
        super().__init__(spec, 3, main)


def make_block(choice: int, spec: BlockSpec) -> ShuffleChoiceBlock:
    """The block of choice id ``choice`` (index into ``CHOICES``) at position ``spec``."""
    if not 0 <= choice < len(CHOICES):
        raise ValueError(f"SPOS choice id {choice} is not one of 0..{len(CHOICES) - 1}")
    if CHOICES[choice] == "xception":
        return XceptionBlock(spec)
    return ShuffleBlock(spec, KERNELS[choice])
