"""Every conf/data/*.yaml instantiates its data module with all of its arguments set."""

import inspect
from pathlib import Path

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from common.data.base import ImageDataModule

CONF = Path(__file__).resolve().parents[3] / "conf" / "data"
NAMES = [
    "cifar10",
    "cifar100",
    "imagenet16_120",
    "fashion_mnist",
    "digits",
    "cifar10_jpeg",
    "cifar10_jpeg_small",
]
VARIANTS = {
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "imagenet16_120": "imagenet16-120",
    "fashion_mnist": "fashion-mnist",
    "digits": "sklearn-digits",
    "cifar10_jpeg": "cifar10-jpeg-yoongikim",
    "cifar10_jpeg_small": "cifar10-jpeg-yoongikim-small",
}


def base_args() -> set[str]:
    return set(inspect.signature(ImageDataModule.__init__).parameters) - {"self"}


def load(name: str, seed: int = 0, data_root: str = "data"):
    """conf/data/<name>.yaml as the ``data`` node of a run with ``seed`` and ``data_root``."""
    run = OmegaConf.create({"seed": seed, "data_root": data_root})
    run.data = OmegaConf.load(CONF / f"{name}.yaml")
    return run.data


@pytest.mark.parametrize("name", NAMES)
def test_config_instantiates_with_every_argument(name, tmp_path):
    cfg = load(name)
    missing = base_args() - set(cfg)
    assert not missing, f"{name}.yaml does not set {sorted(missing)}"
    dm = instantiate(cfg, root=str(tmp_path))
    assert isinstance(dm, ImageDataModule)
    assert dm.data_variant == VARIANTS[name]
    assert dm.num_classes > 0 and dm.in_channels in (1, 3) and dm.image_size > 0
    assert len(dm.mean) == dm.in_channels


def test_paper_values_carry_a_source():
    for name in ("cifar10", "cifar100", "imagenet16_120"):
        lines = (CONF / f"{name}.yaml").read_text().splitlines()
        for key in ("batch_size:", "crop_padding:", "mean:", "std:", "augment:", "cutout:"):
            line = next(line for line in lines if line.startswith(key))
            assert "#" in line, f"{name}.yaml: {line!r} has no source comment"


def test_default_dataset_runs_from_its_config():
    dm = instantiate(load("digits"))
    dm.setup()
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (64, 1, 8, 8) and labels.max() < 10


@pytest.mark.parametrize("name", NAMES)
def test_the_run_seed_is_the_data_seed(name):
    assert instantiate(load(name, seed=7), root="x").seed == 7
