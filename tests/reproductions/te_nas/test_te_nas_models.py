"""TE-NAS's released cell as a timm model: its size in the DARTS CIFAR-10 network."""

import pytest
import timm

import reproductions  # noqa: F401  (registers the models)
from common.spaces.darts.model import count_params_m
from reproductions.te_nas.models import GENOTYPES, MODELS, PROVENANCE


def test_te_nas_registers_its_released_cell() -> None:
    assert sorted(MODELS) == ["tenas_cifar10"]
    assert "TE-NAS" not in PROVENANCE["tenas_cifar10"]["paper"]  # the paper's title, not acronym
    assert "Four GPU Hours" in PROVENANCE["tenas_cifar10"]["paper"]


def test_tenas_released_cell_params() -> None:
    # TE-NAS Table 2 gives 3.8M for its four searches; the cell its evaluation repository
    # releases is larger. Exact value as measured; the searches here found 2.72-3.84M
    # (reproductions/te_nas/README.md), the spread a single published size does not show.
    assert count_params_m(timm.create_model("tenas_cifar10")) == pytest.approx(4.137526, abs=1e-6)
    assert "4.14M" in PROVENANCE["tenas_cifar10"]["notes"]


def test_released_cell_is_in_the_darts_space() -> None:
    assert GENOTYPES["TENAS_cifar10"].validate().steps == (4, 4)
