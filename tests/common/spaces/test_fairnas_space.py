"""The FairNAS MobileNetV2 space: its fixed skeleton as the released models build it
(xiaomi-automl/FairNAS @ fa0d393, models/FairNAS_{A,B,C}.py), architecture validation and the
mb_config form, the inverted-residual choice block and the network of one architecture."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import torch
from torch import nn

from common.errors import NasReproError
from common.spaces.fairnas_mobilenet import (
    CHOICES,
    LAYER_SPECS,
    NUM_ARCHS,
    NUM_LAYERS,
    FairNasArch,
    FairNasNet,
    make_block,
)
from common.spaces.fairnas_mobilenet.space import LayerSpec


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_skeleton_is_the_released_one() -> None:
    assert NUM_LAYERS == 19 and NUM_ARCHS == 6**19
    assert sorted(CHOICES) == [(e, k) for e in (3, 6) for k in (3, 5, 7)]
    widths = [32] * 2 + [40] * 4 + [80] * 4 + [96] * 4 + [192] * 4 + [320]
    assert [s.out_chs for s in LAYER_SPECS] == widths
    assert [s.index for s in LAYER_SPECS if s.stride == 2] == [0, 2, 6, 14]
    assert LAYER_SPECS[0].in_chs == 16  # after separable_conv(32, 16)
    assert all(a.out_chs == b.in_chs for a, b in zip(LAYER_SPECS, LAYER_SPECS[1:]))


def test_mb_config_round_trip() -> None:
    arch = FairNasArch.sample(random.Random(0))
    rows = arch.mb_config()
    assert FairNasArch.from_mb_config(rows) == arch
    assert FairNasArch((2,) + (3,) * 18).mb_config()[:2] == [[3, 32, 7, 2], [6, 32, 3, 1]]
    assert [(r[0], r[2]) for r in rows] == [CHOICES[c] for c in arch.choices]
    assert [(r[1], r[3]) for r in rows] == [(s.out_chs, s.stride) for s in LAYER_SPECS]


@pytest.mark.parametrize(
    "change, match",
    [
        ((0, [3, 24, 3, 2]), r"row 0: \(out_channels, stride\) = \(24, 2\)"),
        ((10, [3, 96, 3, 2]), r"row 10: \(out_channels, stride\) = \(96, 2\)"),
        ((5, [4, 40, 3, 1]), r"row 5: \(expansion, kernel\) = \(4, 3\)"),
        ((5, [3, 40, 9, 1]), r"row 5: \(expansion, kernel\) = \(3, 9\)"),
    ],
)
def test_mb_config_outside_the_space_is_rejected(change: tuple, match: str) -> None:
    rows = FairNasArch((0,) * 19).mb_config()
    rows[change[0]] = change[1]
    with pytest.raises(NasReproError, match=match):
        FairNasArch.from_mb_config(rows)
    with pytest.raises(NasReproError, match="19 rows, got 18"):
        FairNasArch.from_mb_config(rows[:18])


@pytest.mark.parametrize(
    "choices, match",
    [
        ((0,) * 18, "19 choice ids, got 18"),
        ((0,) * 18 + (6,), "layer 18: choice id 6"),
        ((False,) + (0,) * 18, "layer 0: choice id False"),
    ],
)
def test_invalid_architectures_are_rejected(choices: tuple, match: str) -> None:
    with pytest.raises(NasReproError, match=match):
        FairNasArch(choices)


@pytest.mark.parametrize("choice", range(6))
def test_choice_block_is_the_official_inverted_residual(choice: int) -> None:
    expansion, kernel = CHOICES[choice]
    for spec in (LayerSpec(0, 16, 32, 2), LayerSpec(1, 32, 32, 1), LayerSpec(10, 80, 96, 1)):
        block = make_block(choice, spec).eval()
        hidden = spec.in_chs * expansion  # official hidden_dim = round(inp * expand_ratio)
        convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
        assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
            (spec.in_chs, hidden, 1, 1),
            (hidden, hidden, kernel, spec.stride),
            (hidden, spec.out_chs, 1, 1),
        ]
        assert convs[1].groups == hidden and convs[1].padding == (kernel // 2,) * 2
        assert all(c.bias is None for c in convs)
        assert block.has_skip == (spec.stride == 1 and spec.in_chs == spec.out_chs)
        acts = [type(m) for m in block.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]
        assert acts == [nn.ReLU6, nn.ReLU6]  # none after the linear projection
        x = torch.randn(2, spec.in_chs, 8, 8)
        with torch.no_grad():
            assert block(x).shape == (2, spec.out_chs, 8 // spec.stride, 8 // spec.stride)
    with pytest.raises(ValueError, match="choice id 6"):
        make_block(6, LAYER_SPECS[0])


def test_network_of_an_architecture() -> None:
    torch.manual_seed(0)
    arch = FairNasArch.sample(random.Random(1))
    net = FairNasNet(list(arch.choices), num_classes=10).eval()
    assert net.arch == arch and len(net.blocks) == 19
    with torch.no_grad():
        assert net(torch.randn(2, 3, 64, 64)).shape == (2, 10)
    # stem 3x3 s2 -> 32; dw 3x3 + pw -> 16 with no activation after it; head 1x1 -> 1280
    assert net.stem.conv.weight.shape == (32, 3, 3, 3) and net.stem.conv.stride == (2, 2)
    sep = net.separable_conv
    assert sep.conv_dw.weight.shape == (32, 1, 3, 3) and sep.conv_pw.weight.shape == (16, 32, 1, 1)
    assert not sep.has_skip and isinstance(sep.bn2.act, nn.Identity)
    assert net.conv_head.conv.weight.shape == (1280, 320, 1, 1)
    assert net.classifier.bias is not None and net.dropout.p == 0.2
