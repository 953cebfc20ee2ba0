"""``common.training.fit``: the one Trainer every stage builds (run config + stage extras, no
checkpoints, logging into the run folder) and the metrics it hands back."""

from __future__ import annotations

import lightning as L
import pytest
from omegaconf import OmegaConf

from common.data.digits import DigitsDataModule
from common.results.logging import RunLogger
from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network
from common.training import ClassifierModule, fit, make_trainer

pytest.importorskip("sklearn")

TRAINER = OmegaConf.create(
    {"accelerator": "cpu", "devices": 1, "enable_progress_bar": False, "limit_train_batches": 3}
)


def run_logger(tmp_path) -> RunLogger:
    cfg = OmegaConf.create({"logger": {"csv": {"enabled": True}, "wandb": {"enabled": False}}})
    return RunLogger(cfg, tmp_path / "run", published_refs=[])


def test_trainer_takes_the_run_config_the_stage_extras_and_no_checkpoints(tmp_path):
    trainer = make_trainer(TRAINER, 3, gradient_clip_val=5.0)
    assert (trainer.max_epochs, trainer.gradient_clip_val, trainer.limit_train_batches) == (
        3,
        5.0,
        3,
    )
    assert trainer.logger is None and trainer.checkpoint_callback is None
    logger = run_logger(tmp_path)
    trainer = make_trainer(dict(TRAINER), 1, logger)
    assert trainer.default_root_dir == str(logger.run_dir)
    assert trainer.logger.log_dir == str(logger.run_dir / "lightning" / "fit1")


def test_fit_returns_the_last_epoch_and_the_test_metrics_as_floats(tmp_path):
    L.seed_everything(0, verbose=False)
    data = DigitsDataModule(batch_size=32)
    arch = Nb201Arch.parse(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|"
    )
    net = Nb201Network(arch, 10, 1, channels=4, cells_per_stage=1)
    logger = run_logger(tmp_path)
    metrics = fit(ClassifierModule(net, max_epochs=2), data, TRAINER, 2, logger, test=True)
    assert {"train/acc", "train/loss", "val/acc", "val/loss", "test/acc", "test/loss"} <= set(
        metrics
    )
    assert all(type(v) is float for v in metrics.values())
    assert 0.0 <= metrics["test/acc"] <= 100.0
    assert (logger.run_dir / "lightning" / "fit1" / "metrics.csv").is_file()
