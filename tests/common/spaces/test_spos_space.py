"""The SPOS ShuffleNetV2 block space: its layout as the official code builds it
(megvii-model/SinglePathOneShot @ 36eed6c, src/Evaluation/template/{network,blocks}.py),
architecture validation, the four choice blocks and the network of one architecture."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import torch

from common.errors import NasReproError
from common.spaces.spos_shufflenet import (
    BLOCKS,
    CHOICES,
    NUM_ARCHS,
    NUM_BLOCKS,
    ShuffleNetOneShot,
    SposArch,
    make_block,
)
from common.spaces.spos_shufflenet.blocks import ShuffleBlock, XceptionBlock, channel_split
from common.spaces.spos_shufflenet.space import BlockSpec


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_layout_is_the_official_one() -> None:
    assert NUM_BLOCKS == 20 and NUM_ARCHS == 4**20
    assert CHOICES == ("shuffle3x3", "shuffle5x5", "shuffle7x7", "xception")
    # stage_repeats [4, 4, 8, 4], stage widths 64 / 160 / 320 / 640, stride 2 first in a stage
    assert [b.stage for b in BLOCKS] == [0] * 4 + [1] * 4 + [2] * 8 + [3] * 4
    assert [b.out_chs for b in BLOCKS] == [64] * 4 + [160] * 4 + [320] * 8 + [640] * 4
    firsts = [b for b in BLOCKS if b.stride == 2]
    assert [(b.index, b.in_chs, b.out_chs) for b in firsts] == [
        (0, 16, 64),
        (4, 64, 160),
        (8, 160, 320),
        (16, 320, 640),
    ]
    assert all(b.in_chs == b.out_chs for b in BLOCKS if b.stride == 1)
    assert [b.mid_chs for b in firsts] == [32, 80, 160, 320]


@pytest.mark.parametrize(
    "choices, match",
    [
        ((0,) * 19, "20 choice ids, got 19"),
        ((0,) * 21, "20 choice ids, got 21"),
        ((0,) * 19 + (4,), "block 19: choice id 4"),
        ((-1,) + (0,) * 19, "block 0: choice id -1"),
        ((True,) + (0,) * 19, "block 0: choice id True"),
        ((1.0,) + (0,) * 19, "block 0: choice id 1.0"),
    ],
)
def test_invalid_architectures_are_rejected(choices: tuple, match: str) -> None:
    with pytest.raises(NasReproError, match=match):
        SposArch(choices)


def test_architecture_data() -> None:
    arch = SposArch([2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3])
    assert arch.choices == (2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3)
    assert arch.names[:2] == ("shuffle7x7", "shuffle5x5") and arch.names[11] == "xception"
    assert str(arch) == "(2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3)"
    assert hash(arch) == hash(SposArch(arch.choices))
    a, b = SposArch.sample(random.Random(0)), SposArch.sample(random.Random(0))
    assert a == b and all(0 <= c < 4 for c in a.choices)


def test_channel_split_is_the_official_channel_shuffle() -> None:
    x = torch.arange(2 * 8 * 3 * 3, dtype=torch.float32).reshape(2, 8, 3, 3)
    # template/blocks.py channel_shuffle, written out
    b, c, h, w = x.shape
    y = x.reshape(b * c // 2, 2, h * w).permute(1, 0, 2).reshape(2, -1, c // 2, h, w)
    first, second = channel_split(x)
    assert torch.equal(first, y[0]) and torch.equal(second, y[1])
    assert torch.equal(first, x[:, [0, 2, 4, 6]])
    with pytest.raises(ValueError, match="divisible by 4"):
        channel_split(torch.zeros(1, 6, 2, 2))


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("choice", range(4))
def test_choice_blocks(choice: int) -> None:
    down, keep = BlockSpec(0, 0, 16, 64, 2), BlockSpec(1, 0, 64, 64, 1)
    for spec in (down, keep):
        block = make_block(choice, spec).eval()
        assert isinstance(block, XceptionBlock if choice == 3 else ShuffleBlock)
        x = torch.randn(2, spec.in_chs, 16, 16)
        with torch.no_grad():
            y = block(x)
        assert y.shape == (2, spec.out_chs, 16 // spec.stride, 16 // spec.stride)
        if spec.stride == 1:  # the even half passes unchanged
            assert torch.equal(y[:, :32], x[:, 0::2])
        else:
            assert hasattr(block, "branch_proj")
    # a hand count for Shuffle3x3 at stride 1 (inp = 32, mid = 32, out of main branch = 32):
    # pw 32*32 + BN 64, dw 32*9 + BN 64, pw 32*32 + BN 64
    if choice == 0:
        assert _params(make_block(0, keep)) == 2 * 32 * 32 + 32 * 9 + 3 * 64
    with pytest.raises(ValueError, match="keeps its width"):
        make_block(choice, BlockSpec(0, 0, 16, 64, 1))


def test_make_block_rejects_unknown_choice() -> None:
    with pytest.raises(ValueError, match="choice id 4"):
        make_block(4, BLOCKS[0])


def test_network_of_an_architecture() -> None:
    torch.manual_seed(0)
    arch = SposArch.sample(random.Random(1))
    net = ShuffleNetOneShot(list(arch.choices), num_classes=10).eval()
    assert net.arch == arch
    with torch.no_grad():
        assert net(torch.randn(2, 3, 64, 64)).shape == (2, 10)


def test_official_state_dict_names() -> None:
    """Names and shapes of template/network.py and template/blocks.py, so the official
    checkpoints load: block 0 is Shuffle7x7 at stride 2 (16 -> 64), block 11 Xception at
    stride 1 in the 320-wide stage (main branch reads 160 channels, mid 160)."""
    net = ShuffleNetOneShot((2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3))
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes["first_conv.0.weight"] == (16, 3, 3, 3)
    assert shapes["features.0.branch_proj.0.weight"] == (16, 1, 7, 7)
    assert shapes["features.0.branch_main.0.weight"] == (32, 16, 1, 1)
    assert shapes["features.0.branch_main.5.weight"] == (48, 32, 1, 1)
    assert shapes["features.11.branch_main.0.weight"] == (160, 1, 3, 3)
    assert shapes["features.11.branch_main.12.weight"] == (160, 160, 1, 1)
    assert "features.11.branch_proj.0.weight" not in shapes
    assert shapes["conv_last.0.weight"] == (1024, 640, 1, 1)
    assert shapes["classifier.0.weight"] == (1000, 1024) and "classifier.0.bias" not in shapes
