"""The published SPOS architecture as a timm model: its choice list, overrides, and its size
counted as the official code counts it, against the README's 323M FLOPs / 3.5M params
(megvii-model/SinglePathOneShot @ 36eed6c). Registration and provenance shared by every
published model are tested in tests/reproductions/test_published_models.py.

The official integers below were obtained by building the official ``ShuffleNetV2_OneShot``
(src/Evaluation/flops.py, ``architecture`` = the README tuple, ``channels_scales = (1.0,) * 20``)
and summing ``p.numel()`` over its parameters (without BatchNorm2d modules for the second
number), and by running that file's own ``get_flops`` on it. ``get_flops`` adds, per conv,
``out_pixels * c_out * (c_in / groups) * k * k`` and, per linear layer, ``weight.nelement()``:
multiply-adds, classifier included. Here the same quantity comes from torch's
``FlopCounterMode`` (2 FLOPs per multiply-add on convolutions and matrix products).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import timm
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import reproductions  # noqa: F401  (registers the models)
from common.errors import NasReproError
from common.spaces.spos_shufflenet import ShuffleNetOneShot
from reproductions.spos.models import MODELS, PROVENANCE

OFFICIAL_PARAMS = 3_558_464  # every parameter of the official network
OFFICIAL_PARAMS_NO_BN = 3_529_312  # without the BN affine parameters
OFFICIAL_MACS = 322_918_720  # flops.py get_flops at 224x224, the bias-free FC included
FC_MACS = 1024 * 1000  # Linear(1024, 1000, bias=False)


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model() -> nn.Module:
    torch.manual_seed(0)
    return timm.create_model("spos").eval()


def macs_224(model: nn.Module) -> int:
    """Multiply-adds of one 224x224 forward: torch's FlopCounterMode total / 2, after checking
    that it counted only convolutions and matrix products (pooling, BN and ReLU count 0)."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    ops = counter.get_flop_counts()["Global"]
    assert {str(op) for op in ops} <= {"aten.convolution", "aten.mm", "aten.addmm"}, ops
    return counter.get_total_flops() // 2


def test_the_published_architecture(model: nn.Module) -> None:
    assert list(MODELS) == ["spos"]
    assert isinstance(model, ShuffleNetOneShot)
    assert model.arch.choices == (2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3)
    assert model.arch.names[-4:] == ("xception", "shuffle7x7", "xception", "xception")
    assert "SinglePathOneShot" in PROVENANCE["spos"]["origin"]
    with torch.no_grad():
        assert model(torch.randn(2, 3, 224, 224)).shape == (2, 1000)


def test_params_match_the_official_network(model: nn.Module) -> None:
    params = sum(p.numel() for p in model.parameters())
    bn = sum(
        p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()
    )
    assert params == OFFICIAL_PARAMS
    assert params - bn == OFFICIAL_PARAMS_NO_BN
    # README: 3.5M. That is the count without BN (3.529M); the full count rounds to 3.6M.
    assert round((params - bn) / 1e6, 1) == 3.5 and round(params / 1e6, 1) == 3.6


def test_macs_match_the_official_counter(model: nn.Module) -> None:
    macs = macs_224(model)
    assert macs == OFFICIAL_MACS
    # README: 323M "FLOPs". It includes the classifier: without it the count rounds to 322M.
    assert round(macs / 1e6) == 323 and round((macs - FC_MACS) / 1e6) == 322


def test_overrides_and_no_pretrained_weights() -> None:
    model = timm.create_model("spos", num_classes=10, drop_rate=0.0)
    assert model.classifier[0].out_features == 10 and model.dropout.p == 0.0
    assert timm.create_model("spos").dropout.p == 0.1  # template/network.py
    with pytest.raises(NasReproError, match="no pretrained weights"):
        timm.create_model("spos", pretrained=True)
