"""The one way a stage fits a Lightning model: a Trainer built from the run's ``trainer``
config (conf/trainer), logging into the run folder, then fit (and optionally test) and the
epoch metrics handed back as plain floats.

Every training in a run goes through here (a DARTS search, a candidate's brief training, a
retrain), so a change of accelerator, precision or strategy on the command line reaches all of
them, and it is the one place that checkpoints. In a run the runner set up
(``common.resume.configure``), fit ``n`` of the run checkpoints into
``checkpoints/fit<n>/last.ckpt`` every ``checkpoint.every_n_epochs`` epochs, with the random
state and the shuffling generators of its data (``RandomState``), and writes ``done.pt`` when it
has run its schedule. On resume a fit with ``done.pt`` is not run again: its final weights come
from ``last.ckpt`` and its metrics and the random state after it from ``done.pt``; an unfinished
fit continues from its ``last.ckpt``. Fits are numbered in call order, which a resumed run
repeats (same config, same code path).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from common import resume
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
    extra.setdefault("enable_checkpointing", False)
    return L.Trainer(**kwargs, max_epochs=max_epochs, **extra)


def _generators(trainer: L.Trainer) -> list[torch.Generator]:
    """The generators that shuffle the training data (one per loader of a combined loader)."""
    loaders = trainer.fit_loop._combined_loader
    out: list[torch.Generator] = []
    for dl in loaders.flattened if loaders is not None else []:
        sampler = getattr(dl, "sampler", None)
        for gen in (getattr(dl, "generator", None), getattr(sampler, "generator", None)):
            if isinstance(gen, torch.Generator) and all(gen is not g for g in out):
                out.append(gen)
    return out


class RandomState(L.Callback):
    """Keeps the global random state and the data loaders' generators in every checkpoint and
    puts them back when a fit resumes, then draws the first epoch's data order again (the
    same point, relative to the draws, as the epoch-end checkpoint was taken at). Workers of a
    loader with ``persistent_workers`` keep no state across a kill, so a resumed run matches
    the uninterrupted one exactly only when its transforms draw nothing in workers. Also makes
    the saved hyper-parameters plain containers, so the checkpoint loads weights-only."""

    def __init__(self) -> None:
        self.loaded: dict[str, Any] | None = None
        self.trainer: L.Trainer | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self.trainer = trainer

    def state_dict(self) -> dict[str, Any]:
        gens = _generators(self.trainer) if self.trainer is not None else []
        return {"rng": resume.rng_state(), "generators": [g.get_state() for g in gens]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.loaded = state_dict

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.loaded is None:
            return
        resume.set_rng_state(self.loaded["rng"])
        for gen, state in zip(_generators(trainer), self.loaded["generators"], strict=False):
            gen.set_state(state)
        self.loaded = None
        # Lightning drew the first epoch's order (and prefetched) when it set up the data,
        # before this hook: draw it again from the restored state
        fetcher = trainer.fit_loop._data_fetcher
        if fetcher is not None:
            iter(fetcher)

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        for key in ("hyper_parameters", "datamodule_hyper_parameters"):
            if key in checkpoint:
                checkpoint[key] = resume.plain(dict(checkpoint[key]))


class AtomicCheckpoint(ModelCheckpoint):
    """``last.ckpt`` written through a temporary file: a kill mid-write keeps the previous.
    "Already saved" is judged by epoch and step: a module that steps its optimisers itself
    (DARTS's bilevel step) never advances ``global_step``, which ModelCheckpoint alone takes
    for "saved at this step" and so would never save."""

    _saved_at: tuple[int, int] | None = None

    def _should_skip_saving_checkpoint(self, trainer: L.Trainer) -> bool:
        return (
            bool(trainer.fast_dev_run)
            or trainer.state.fn != "fit"
            or trainer.sanity_checking
            or self._saved_at == (trainer.current_epoch, trainer.global_step)
        )

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        self._saved_at = (trainer.current_epoch, trainer.global_step)
        tmp = filepath + ".tmp"
        trainer.save_checkpoint(tmp, self.save_weights_only)
        if trainer.is_global_zero:
            os.replace(tmp, filepath)
        self._last_global_step_saved = trainer.global_step
        self._last_checkpoint_saved = filepath


def _schedule(trainer_cfg: Mapping[str, Any] | DictConfig, max_epochs: int, extra) -> dict:
    """What decides where a fit stops: a finished fit is skipped only under the same."""
    keys = ("max_steps", "limit_train_batches")
    return {
        "max_epochs": max_epochs,
        **{k: extra.get(k, trainer_cfg.get(k)) for k in keys},
    }


def _finished(trainer: L.Trainer) -> bool:
    """The fit ran its schedule (and was not stopped by ``max_time`` or an interrupt)."""
    loop = trainer.fit_loop
    if trainer.interrupted:
        return False
    if loop.max_steps not in (None, -1) and trainer.global_step >= loop.max_steps:
        return True
    if loop.max_epochs not in (None, -1) and trainer.current_epoch >= loop.max_epochs:
        return True
    return False


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
    (``test/acc``, ...) from one pass after training. Checkpoints and resumes as the module
    docstring says when the run checkpoints."""
    ck = resume.settings(logger)
    if ck is None or ck.every_n_epochs <= 0:
        return _run(make_trainer(trainer_cfg, max_epochs, logger, **extra), module, data, test)
    index = getattr(logger, "num_fits", 0) + 1
    fit_dir = Path(logger.run_dir) / "checkpoints" / f"fit{index}"
    last, done = fit_dir / "last.ckpt", fit_dir / "done.pt"
    callbacks = list(extra.pop("callbacks", []))
    schedule = _schedule(trainer_cfg, max_epochs, extra)
    if ck.resume and done.is_file() and last.is_file():
        finished = torch.load(done, weights_only=True)
        if finished["schedule"] == schedule:
            logger.num_fits = index  # the fit's folders keep their numbers
            state = torch.load(last, map_location="cpu", weights_only=True)
            module.load_state_dict(state["state_dict"])
            saved = state.get("callbacks", {})
            for cb in callbacks:
                if cb.state_key in saved:
                    cb.load_state_dict(saved[cb.state_key])
            resume.set_rng_state(finished["rng"])
            return dict(finished["metrics"])
    checkpoint = AtomicCheckpoint(
        dirpath=fit_dir,
        filename="last",
        every_n_epochs=ck.every_n_epochs,
        save_on_train_epoch_end=True,
        enable_version_counter=False,
    )
    trainer = make_trainer(
        trainer_cfg,
        max_epochs,
        logger,
        callbacks=[RandomState(), *callbacks, checkpoint],
        enable_checkpointing=True,
        **extra,
    )
    ckpt_path = str(last) if ck.resume and last.is_file() else None

    def after_fit() -> None:
        if _finished(trainer):
            checkpoint._save_checkpoint(trainer, str(last))  # the final state, for a skip

    metrics = _run(trainer, module, data, test, ckpt_path, after_fit)
    if _finished(trainer) and trainer.is_global_zero:
        finished = {"metrics": metrics, "rng": resume.rng_state(), "schedule": schedule}
        resume.save_atomic(finished, done)
    return metrics


def _run(
    trainer: L.Trainer,
    module: L.LightningModule,
    data: L.LightningDataModule,
    test: bool,
    ckpt_path: str | None = None,
    after_fit=None,
) -> dict[str, float]:
    trainer.fit(module, datamodule=data, ckpt_path=ckpt_path, weights_only=True)
    if after_fit is not None:
        after_fit()
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    if test:
        trainer.test(module, datamodule=data, verbose=False)
        metrics.update(
            {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")}
        )
    return metrics
