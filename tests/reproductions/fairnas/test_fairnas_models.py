"""FairNAS-A, -B and -C as timm models: their architectures, overrides, and their sizes
against the official modules and Table 2 (xiaomi-automl/FairNAS @ fa0d393,
models/FairNAS_{A,B,C}.py and README images/result.png). Registration and provenance shared by
every published model are tested in tests/reproductions/test_published_models.py.

The official integers below were obtained by building ``FairNasA/B/C()`` from those files and
summing ``p.numel()`` over their parameters (without BatchNorm2d modules for the second
number), and by counting their multiply-adds at 224x224 with the conv/linear formula the
repositories' counters use (per conv ``out_pixels * c_out * (c_in / groups) * k * k``, per
linear ``in * out``; the SPOS repository's ``get_flops`` run on the FairNAS modules). Here the
same quantity comes from torch's ``FlopCounterMode`` (2 FLOPs per multiply-add).
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
from common.spaces.fairnas_mobilenet import FairNasNet
from reproductions.fairnas.models import MB_CONFIGS, MODELS

# name: (all parameters, without BN affine, multiply-adds incl. FC) of the official module
OFFICIAL = {
    "fairnas_a": (4_651_352, 4_608_696, 388_122_848),
    "fairnas_b": (4_506_272, 4_466_016, 345_297_632),
    "fairnas_c": (4_397_864, 4_359_240, 321_024_992),
}
# Table 2: multiply-adds (M), params (M)
TABLE_2 = {"fairnas_a": (388, 4.6), "fairnas_b": (345, 4.5), "fairnas_c": (321, 4.4)}
FC_MACS = 1280 * 1000  # Linear(1280, 1000)


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def models() -> dict[str, nn.Module]:
    torch.manual_seed(0)
    return {name: timm.create_model(name).eval() for name in OFFICIAL}


def macs_224(model: nn.Module) -> int:
    """Multiply-adds of one 224x224 forward: torch's FlopCounterMode total / 2, after checking
    that it counted only convolutions and matrix products (pooling, BN and ReLU6 count 0)."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    ops = counter.get_flop_counts()["Global"]
    assert {str(op) for op in ops} <= {"aten.convolution", "aten.mm", "aten.addmm"}, ops
    return counter.get_total_flops() // 2


def test_the_three_models_are_the_official_configs(models: dict[str, nn.Module]) -> None:
    assert sorted(MODELS) == sorted(OFFICIAL)
    for variant, rows in MB_CONFIGS.items():
        model = models[f"fairnas_{variant.lower()}"]
        assert isinstance(model, FairNasNet)
        assert model.arch.mb_config() == rows
    # models/FairNAS_A.py: first layer [3, 32, 7, 2], last [6, 320, 5, 1]
    assert MODELS["fairnas_a"].mb_config()[0] == [3, 32, 7, 2]
    assert MB_CONFIGS["C"][-1] == [6, 320, 5, 1]
    with torch.no_grad():
        assert models["fairnas_c"](torch.randn(2, 3, 224, 224)).shape == (2, 1000)


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_sizes_match_the_official_modules(models: dict[str, nn.Module], name: str) -> None:
    model = models[name]
    params = sum(p.numel() for p in model.parameters())
    bn = sum(
        p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()
    )
    macs = macs_224(model)
    assert (params, params - bn, macs) == OFFICIAL[name]
    published_macs, published_params = TABLE_2[name]
    # Table 2's multiply-adds include the classifier (without it: 387 / 344 / 320)
    assert round(macs / 1e6) == published_macs
    assert round((macs - FC_MACS) / 1e6) == published_macs - 1
    # Table 2's params match the count without BN (the full count of A rounds to 4.7)
    assert round((params - bn) / 1e6, 1) == published_params


def test_full_parameter_count_of_a_rounds_above_table_2(models: dict[str, nn.Module]) -> None:
    assert round(sum(p.numel() for p in models["fairnas_a"].parameters()) / 1e6, 1) == 4.7


def test_overrides_and_no_pretrained_weights() -> None:
    model = timm.create_model("fairnas_b", num_classes=10, drop_rate=0.0)
    assert model.classifier.out_features == 10 and model.dropout.p == 0.0
    with pytest.raises(NasReproError, match="no pretrained weights"):
        timm.create_model("fairnas_a", pretrained=True)
