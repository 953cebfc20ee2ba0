"""The published DARTS-space cells as timm models: creation, provenance, and their sizes
against the published values (DARTS, ICLR 2019, Tables 1 and 3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import timm
import torch
from torch import nn

import reproductions.darts  # noqa: F401  (registers the models)
from common.errors import NasReproError
from common.spaces.darts.genotype import ALL_OPS
from common.spaces.darts.model import NetworkCIFAR, NetworkImageNet, count_macs, count_params_m
from common.spaces.darts.registry import GENOTYPES, MODELS
from reproductions.darts.models import PROVENANCE

NAMES = [
    "darts_v1_cifar10",
    "darts_v2_cifar10",
    "darts_v2_imagenet",
    "nasnet_a_darts_space_cifar10",
    "amoebanet_a_darts_space_cifar10",
    "enas_darts_space_cifar10",
    "enas_nsganet_darts_space_cifar10",
    "pnasnet5_darts_space_cifar10",
    "tenas_cifar10",
]


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


def test_every_published_model_is_registered(models: dict[str, nn.Module]) -> None:
    assert sorted(NAMES) == sorted(MODELS)
    assert set(NAMES) <= set(timm.list_models())
    for name, model in models.items():
        expected = NetworkImageNet if name.endswith("imagenet") else NetworkCIFAR
        assert isinstance(model, expected), name


@pytest.mark.parametrize("name", [n for n in NAMES if n.endswith("cifar10")])
def test_cifar_models_classify_a_cifar_image(models: dict[str, nn.Module], name: str) -> None:
    model = models[name].eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 10)


def test_provenance_names_paper_and_origin(models: dict[str, nn.Module]) -> None:
    for name in NAMES:
        prov = PROVENANCE[name]
        for key in ("paper", "paper_id", "origin", "origin_url", "table", "notes", "network"):
            assert prov[key], (name, key)
        assert prov["paper_id"].startswith("arXiv:")
        assert prov["origin_url"].startswith("https://github.com/")
        assert models[name].provenance == prov
        cfg = models[name].pretrained_cfg
        assert cfg["paper_ids"] == prov["paper_id"] and cfg["origin_url"] == prov["origin_url"]
        assert timm.models.get_pretrained_cfg(name).paper_name == prov["paper"]
    assert "DARTS" in PROVENANCE["darts_v2_cifar10"]["paper"]
    assert "quark0/darts" in PROVENANCE["nasnet_a_darts_space_cifar10"]["origin"]
    assert "melodyguan/enas" in PROVENANCE["enas_darts_space_cifar10"]["origin"]
    assert "PNASNet.pytorch" in PROVENANCE["pnasnet5_darts_space_cifar10"]["origin"]


def test_genotypes_are_valid_and_darts_ones_are_in_the_space() -> None:
    GENOTYPES["DARTS_V1"].validate()
    GENOTYPES["DARTS_V2"].validate()
    GENOTYPES["TENAS_cifar10"].validate()
    for name in ("NASNet", "AmoebaNet", "ENAS", "ENAS_NSGANet", "PNASNet"):
        assert GENOTYPES[name].validate(steps=5, ops=ALL_OPS).steps == (5, 5)


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


def test_amoebanet_a_darts_space_params(models: dict[str, nn.Module]) -> None:
    params = count_params_m(models["amoebanet_a_darts_space_cifar10"])
    assert params == pytest.approx(3.145078, abs=1e-6)
    # DARTS Table 1, dagger row (AmoebaNet-A trained in the DARTS setup): 3.1M
    assert round(params, 1) == 3.1


def test_nasnet_a_darts_space_params(models: dict[str, nn.Module]) -> None:
    params = count_params_m(models["nasnet_a_darts_space_cifar10"])
    assert params == pytest.approx(3.830950, abs=1e-6)
    # DARTS Table 1's dagger row gives 3.1M for NASNet-A in the DARTS setup, but at 36 channels
    # and 20 cells this genotype has 3.83M: its 5-node normal cell outputs 5 nodes, not 4. The
    # paper does not say which width it used (32 channels would give 3.06M), so we do not
    # assert 3.1M here; the gap is recorded in the model's provenance notes.
    assert "3.83M" in PROVENANCE["nasnet_a_darts_space_cifar10"]["notes"]


@pytest.mark.parametrize(
    ("name", "expected", "original"),
    [
        # No source gives the size of these re-encodings in the DARTS network; the values are
        # as measured. "original" is the size of the authors' own network (DARTS Table 1),
        # a different network, quoted for scale only.
        ("enas_darts_space_cifar10", 4.394710, 4.6),
        ("enas_nsganet_darts_space_cifar10", 3.859894, 4.6),
        ("pnasnet5_darts_space_cifar10", 4.481110, 3.2),
    ],
)
def test_reencoded_cell_params(
    models: dict[str, nn.Module], name: str, expected: float, original: float
) -> None:
    params = count_params_m(models[name])
    assert params == pytest.approx(expected, abs=1e-6)
    assert 0.5 * original < params < 1.5 * original  # same order as the original network


def test_tenas_released_cell_params(models: dict[str, nn.Module]) -> None:
    # TE-NAS Table 2 gives 3.8M for its four searches; the cell its evaluation repository
    # releases is larger. Exact value as measured; the searches here found 2.72-3.84M
    # (reproductions/te_nas/README.md), the spread a single published size does not show.
    assert count_params_m(models["tenas_cifar10"]) == pytest.approx(4.137526, abs=1e-6)
    assert "4.14M" in PROVENANCE["tenas_cifar10"]["notes"]
