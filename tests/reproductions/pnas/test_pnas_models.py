"""PNASNet-5 as timm models: PNAS's own networks against the published sizes and the
TF-slim mobile config; timm's ``pnasnet5large`` contains the registered cell; and the
DARTS-space re-encoding."""

import pytest
import timm
import torch

import reproductions  # noqa: F401  (registers the models)
from common.spaces.darts.genotype import ALL_OPS
from common.spaces.darts.model import count_params_m
from common.spaces.nasnet import count_mult_adds, count_params
from common.spaces.nasnet.published import PNASNET_5
from reproductions.pnas.models import CELLS, PROVENANCE
from tests.common.spaces.nasnet.cell_reader import read_cell


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_pnasnet5_cifar10_has_3_2m_params() -> None:
    model = timm.create_model("pnasnet5_cifar10")
    assert count_params(model, aux=False) == 3_189_082
    assert round(count_params(model, aux=False) / 1e6, 1) == 3.2  # restated by DARTS Table 1


def test_pnasnet5_mobile_matches_the_published_size() -> None:
    model = timm.create_model("pnasnet5_mobile")
    # TF-slim pnasnet.py mobile_imagenet_config as built here, no auxiliary head
    assert count_params(model, aux=False) == 5_064_487
    assert round(count_params(model, aux=False) / 1e6, 1) == 5.1
    # 588M published (DARTS Table 3 restatement); 587.3M here: within 0.2 %
    assert count_mult_adds(model, 224) / 1e6 == pytest.approx(588, rel=2e-3)


def test_timm_pnasnet5large_contains_the_registered_cell() -> None:
    large = timm.create_model("pnasnet5large")
    for name in ("cell_1", "cell_4", "cell_8", "cell_11"):  # cells 4 and 8 have stride 2
        assert read_cell(getattr(large, name), "pnas").key() == PNASNET_5.key(), name


def test_darts_space_reencoding_is_kept() -> None:
    genotype = CELLS["PNASNet"].genotype.validate(steps=5, ops=ALL_OPS)
    assert genotype.steps == (5, 5) and genotype.normal == genotype.reduce
    assert "PNASNet.pytorch" in PROVENANCE["pnasnet5_darts_space_cifar10"]["origin"]
    params = count_params_m(timm.create_model("pnasnet5_darts_space_cifar10"))
    assert params == pytest.approx(4.481110, abs=1e-6)
