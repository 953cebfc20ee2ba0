"""AmoebaNet-A's published cell as a timm model: its encoding and its size in the DARTS
CIFAR-10 network against DARTS Table 1 (dagger row)."""

import pytest
import timm

import reproductions  # noqa: F401  (registers the models)
from common.spaces.darts.genotype import ALL_OPS
from common.spaces.darts.model import count_params_m
from reproductions.regularized_evolution.models import CELLS, PROVENANCE


def test_cell_is_a_five_node_reencoding() -> None:
    assert CELLS["AmoebaNet"].genotype.validate(steps=5, ops=ALL_OPS).steps == (5, 5)
    assert "quark0/darts" in PROVENANCE["amoebanet_a_darts_space_cifar10"]["origin"]


def test_amoebanet_a_darts_space_params() -> None:
    # count_params_m: the DARTS authors' count_parameters_in_MB (no auxiliary head), / 1e6
    params = count_params_m(timm.create_model("amoebanet_a_darts_space_cifar10"))
    assert params == pytest.approx(3.145078, abs=1e-6)
    # DARTS Table 1, dagger row (AmoebaNet-A trained in the DARTS setup): 3.1M
    assert round(params, 1) == 3.1
