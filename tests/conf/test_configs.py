"""Config tier: every experiment composes, every _target_ and task imports, paper values
carry sources, and the packages imported are ours."""

import importlib
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import get_method
from omegaconf import OmegaConf

from common.cli import CONF_DIR, config_options

EXPERIMENTS = config_options("experiment")


def _targets(node):
    if isinstance(node, dict):
        if "_target_" in node:
            yield node["_target_"]
        for v in node.values():
            yield from _targets(v)
    elif isinstance(node, list):
        for v in node:
            yield from _targets(v)


def test_packages_are_ours():
    # `common` and `reproductions` are generic names that exist on PyPI too
    import common
    import reproductions

    assert common.NASREPRO_PACKAGE and reproductions.NASREPRO_PACKAGE
    assert Path(common.__file__).parent == CONF_DIR.parent / "common"


def test_there_are_experiments():
    assert "regularized-evolution_nb201_cifar10" in EXPERIMENTS
    assert "random-search_nb201-space_digits_reduced" in EXPERIMENTS


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_and_its_targets_import(name):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={name}"])
    assert cfg.experiment_name == name, "experiment_name must equal the file name"
    assert cfg.scale in ("paper", "reduced")
    assert (name.endswith("_reduced")) == (cfg.scale == "reduced"), "reduced runs are named so"
    assert (CONF_DIR.parent / "reproductions" / cfg.paper).is_dir()
    get_method(cfg.task)
    container = OmegaConf.to_container(cfg, resolve=False)
    for target in _targets(container):
        module, _, attr = target.rpartition(".")
        try:
            obj = importlib.import_module(module)
        except ModuleNotFoundError:  # Class.method targets
            owner, _, cls = module.rpartition(".")
            obj = getattr(importlib.import_module(owner), cls)
        assert hasattr(obj, attr), target


def test_experiment_values_carry_sources():
    # every number in a paper-scale experiment file is commented with where it comes from
    for name in EXPERIMENTS:
        text = (CONF_DIR / "experiment" / f"{name}.yaml").read_text()
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            value = value.split("#")[0].strip()
            if sep and value and value.replace(".", "").replace("e-", "").lstrip("-").isdigit():
                assert "#" in line, f"{name}: uncommented number in {line!r}"
