"""NASNet-A's published cell as a timm model: its encoding and its size in the DARTS CIFAR-10
network against DARTS Table 1 (dagger row)."""

import pytest
import timm

import reproductions  # noqa: F401  (registers the models)
from common.spaces.darts.genotype import ALL_OPS
from common.spaces.darts.model import count_params_m
from reproductions.nasnet.models import CELLS, PROVENANCE


def test_cell_is_a_five_node_reencoding() -> None:
    assert CELLS["NASNet"].genotype.validate(steps=5, ops=ALL_OPS).steps == (5, 5)
    assert "quark0/darts" in PROVENANCE["nasnet_a_darts_space_cifar10"]["origin"]


def test_nasnet_a_darts_space_params() -> None:
    # count_params_m: the DARTS authors' count_parameters_in_MB (no auxiliary head), / 1e6
    params = count_params_m(timm.create_model("nasnet_a_darts_space_cifar10"))
    assert params == pytest.approx(3.830950, abs=1e-6)
    # DARTS Table 1's dagger row gives 3.1M for NASNet-A in the DARTS setup, but at 36 channels
    # and 20 cells this genotype has 3.83M: its 5-node normal cell outputs 5 nodes, not 4. The
    # paper does not say which width it used (32 channels would give 3.06M), so we do not
    # assert 3.1M here; the gap is recorded in the model's provenance notes.
    assert "3.83M" in PROVENANCE["nasnet_a_darts_space_cifar10"]["notes"]
