"""Tiny networks shared by the score tests."""

import pytest
import torch
from torch import nn

from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network

MIXED = Nb201Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
)


@pytest.fixture
def small_nb201() -> nn.Module:
    """A narrow, shallow NB-201 network (4 channels, 1 cell per stage): real ops, fast."""
    torch.manual_seed(0)
    return Nb201Network(MIXED, num_classes=10, channels=4, cells_per_stage=1)


@pytest.fixture
def conv_bn_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 3),
    )
