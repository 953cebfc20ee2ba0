"""The debug config group (as in lightning-hydra-template): each option composes with the
Lightning experiments, cuts the run short in a way the record shows, and can never be
canonical. A real run of one is in tests/smoke/test_cli_runs.py."""

import pytest
from hydra import compose, initialize_config_dir

from common.cli import CONF_DIR, config_options
from common.errors import NasReproError
from common.runner import check_canonical, truncations

DEBUG = config_options("debug")
LIGHTNING_EXPERIMENTS = [
    "darts-2nd_darts-space_digits_reduced",
    "random-search_nb201-space_digits_reduced",
]


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


def test_options_and_default():
    assert DEBUG == ["fdr", "limit"]
    cfg = _compose(f"experiment={LIGHTNING_EXPERIMENTS[0]}")
    assert cfg.hydra.runtime.choices.debug is None  # off unless asked for
    assert truncations(cfg) == []


@pytest.mark.parametrize("experiment", LIGHTNING_EXPERIMENTS)
@pytest.mark.parametrize("debug", DEBUG)
def test_debug_option_composes_and_truncates(experiment, debug):
    cfg = _compose(f"experiment={experiment}", f"debug={debug}")
    assert cfg.experiment_name == experiment
    cut = truncations(cfg)
    assert cut, "a debug run must be marked truncated in its record"
    if debug == "fdr":
        assert cfg.trainer.fast_dev_run is True and cut == ["trainer.fast_dev_run"]
    else:
        assert cfg.trainer.limit_train_batches <= 3 and cfg.trainer.max_steps <= 10
        assert "max_epochs" not in cfg.trainer  # the stages pass max_epochs themselves
    assert cfg.record.canonical is False and cfg.logger.wandb.enabled is False
    assert cfg.hydra.run.dir.startswith("outputs/debug/")
    canonical = _compose(f"experiment={experiment}", f"debug={debug}", "record.canonical=true")
    with pytest.raises(NasReproError, match="record.canonical=true needs the experiment's full"):
        check_canonical(canonical)
