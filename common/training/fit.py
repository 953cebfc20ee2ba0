"""The one way a stage fits a Lightning model: a Trainer built from the run's ``trainer``
config (conf/trainer), logging into the run folder, then fit (and optionally test) and the
epoch metrics handed back as plain floats.

Every training in a run goes through here (a DARTS search, a candidate's brief training, a
retrain), so a change of accelerator, precision or strategy on the command line reaches all of
them, and no stage writes checkpoints the run record does not know about.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
from omegaconf import DictConfig, OmegaConf

from common.results.logging import RunLogger


def make_trainer(
    trainer_cfg: Mapping[str, Any] | DictConfig,
    max_epochs: int,
    logger: RunLogger | None = None,
    **extra: Any,
) -> L.Trainer:
    """A Trainer with the arguments of ``trainer_cfg`` plus ``max_epochs`` and ``extra`` (e.g.
    ``gradient_clip_val``, ``callbacks``). With a ``logger`` it logs to the run's CSV/W&B and
    roots Lightning's files in the run folder; without one it logs nothing."""
    kwargs = (
        OmegaConf.to_container(trainer_cfg, resolve=True)
        if isinstance(trainer_cfg, DictConfig)
        else dict(trainer_cfg)
    )
    if logger is not None:
        extra = {
            "logger": logger.lightning_loggers(),
            "default_root_dir": str(logger.run_dir),
            **extra,
        }
    else:
        extra = {"logger": False, **extra}
    return L.Trainer(**kwargs, max_epochs=max_epochs, enable_checkpointing=False, **extra)


def fit(
    module: L.LightningModule,
    data: L.LightningDataModule,
    trainer_cfg: Mapping[str, Any] | DictConfig,
    max_epochs: int,
    logger: RunLogger | None = None,
    test: bool = False,
    **extra: Any,
) -> dict[str, float]:
    """Fit ``module`` on ``data`` for ``max_epochs``; return the last epoch's logged metrics
    (``train/acc``, ``val/acc``, ... as floats) and, with ``test``, the test split's
    (``test/acc``, ...) from one pass after training."""
    trainer = make_trainer(trainer_cfg, max_epochs, logger, **extra)
    trainer.fit(module, datamodule=data)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    if test:
        trainer.test(module, datamodule=data, verbose=False)
        metrics.update(
            {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")}
        )
    return metrics
