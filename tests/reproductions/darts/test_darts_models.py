"""The published DARTS cells as timm models: their genotypes, overrides, and their sizes
against the published values (DARTS, ICLR 2019, Tables 1 and 3). What every published model
shares (registration, provenance, building through timm) is tested in
tests/reproductions/test_published_models.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import timm
import torch
from torch import nn

import reproductions  # noqa: F401  (registers the models)
from common.errors import NasReproError
from common.spaces.darts.model import NetworkCIFAR, NetworkImageNet, count_macs, count_params_m
from reproductions.darts.models import GENOTYPES, MODELS, PROVENANCE

NAMES = ["darts_v1_cifar10", "darts_v2_cifar10", "darts_v2_imagenet"]


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """One intra-op thread for this module: these small CPU batches gain little from threads,
    and OpenMP threads that spin on cores shared with other processes slowed the module ~7x."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def models() -> dict[str, nn.Module]:
    torch.manual_seed(0)
    return {name: timm.create_model(name) for name in NAMES}


def test_darts_registers_its_models(models: dict[str, nn.Module]) -> None:
    assert sorted(NAMES) == sorted(MODELS)
    for name, model in models.items():
        expected = NetworkImageNet if name.endswith("imagenet") else NetworkCIFAR
        assert isinstance(model, expected), name
    assert "DARTS" in PROVENANCE["darts_v2_cifar10"]["paper"]
    assert "quark0/darts" in PROVENANCE["darts_v1_cifar10"]["origin"]


def test_darts_genotypes_are_in_the_space() -> None:
    for name in ("DARTS_V1", "DARTS_V2"):
        assert GENOTYPES[name].validate().steps == (4, 4)


def test_overrides_and_no_pretrained_weights() -> None:
    model = timm.create_model(
        "darts_v2_cifar10", num_classes=100, auxiliary=False, drop_path_prob=0.2
    )
    assert model.classifier.out_features == 100 and model.auxiliary_head is None
    assert model.drop_path_prob == 0.2
    with pytest.raises(NasReproError, match="no pretrained weights"):
        timm.create_model("darts_v2_cifar10", pretrained=True)


# --- sizes against the published values --------------------------------------------------
# count_params_m is the authors' count_parameters_in_MB (cnn/utils.py): every parameter outside
# the auxiliary head, BN affine included, / 1e6. The exact values pin the networks down; the
# rounded ones are what a source states.


def test_darts_v2_cifar10_params(models: dict[str, nn.Module]) -> None:
    params = count_params_m(models["darts_v2_cifar10"])
    # cnn/train.py logs "param size = 3.349342MB" for DARTS_V2 (line quoted in an annotated
    # public copy of the script)
    assert params == pytest.approx(3.349342, abs=1e-6)
    assert round(params, 1) == 3.3  # DARTS Table 1 and README: 3.3M


def test_darts_v2_imagenet_params_and_mult_adds(models: dict[str, nn.Module]) -> None:
    model = models["darts_v2_imagenet"]
    params = count_params_m(model)
    assert params == pytest.approx(4.718752, abs=1e-6)
    assert round(params, 1) == 4.7  # DARTS Table 3 and README: 4.7M
    macs = count_macs(model, (3, 224, 224)) / 1e6  # conv + linear, aux head not run
    assert macs == pytest.approx(529.911552, abs=1e-6)
    # Table 3 gives 574M. The authors never released their counter (quark0/darts issue #46);
    # counting conv + fc others got 523M (D-X-Y) and 544.59M (flops-counter.pytorch), as we
    # get 530M. We accept the paper's value within 10% and check the mobile limit (< 600M,
    # App. A.2.3), which both counts meet.
    assert abs(macs / 574 - 1) < 0.10
    assert macs < 600


def test_darts_v1_cifar10_params(models: dict[str, nn.Module]) -> None:
    # No source states the size of the DARTS_V1 cell (Table 1's 3.3M for first-order DARTS
    # refers to a cell the paper does not identify with DARTS_V1); exact value as measured.
    assert count_params_m(models["darts_v1_cifar10"]) == pytest.approx(3.169414, abs=1e-6)
