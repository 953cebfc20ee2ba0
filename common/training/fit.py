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

import csv
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from common import resume
from common.results.logging import RunLogger
from common.training import distributed


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
    save_final = True  # also at the end of a fit that ran its schedule (the state a skip loads)
    finished = False  # saved with the final state: a spawning strategy's main process reads it

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.save_final and _finished(trainer):
            self.finished = True
            self._saved_at = None
            self._save_checkpoint(trainer, str(Path(self.dirpath) / "last.ckpt"))

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "finished": self.finished}

    def _should_skip_saving_checkpoint(self, trainer: L.Trainer) -> bool:
        return (
            bool(trainer.fast_dev_run)
            or trainer.state.fn != "fit"
            or trainer.sanity_checking
            or self._saved_at == (trainer.current_epoch, trainer.global_step)
        )

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        self._saved_at = (trainer.current_epoch, trainer.global_step)
        for lg in trainer.loggers:  # the CSV rows up to here on disk: a resume keeps them
            lg.save()
        tmp = filepath + ".tmp"
        trainer.save_checkpoint(tmp, self.save_weights_only)
        if trainer.is_global_zero:
            os.replace(tmp, filepath)
        self._last_global_step_saved = trainer.global_step
        self._last_checkpoint_saved = filepath


class LoggedLines(L.Callback):
    """What the run's logger received (``RunLogger.log``: the run's metrics.csv and W&B) while
    this fit ran, e.g. a search's per-epoch architecture lines. Kept in each checkpoint and in
    ``done.pt``, so a resumed run logs them again where the uninterrupted run logged them: a
    skipped fit's lines before its result, a fit continued from a checkpoint its lines up to
    that checkpoint before its first new epoch."""

    def __init__(self, logger: RunLogger) -> None:
        self.logger = logger
        self.lines: list[list] = []
        self.loaded = False

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        log = self.logger.log

        def tee(metrics: dict, step: int) -> None:
            self.lines.append([resume.plain(dict(metrics)), int(step)])
            log(metrics, step)

        self.logger.log = tee  # in the process running the fit (a spawned worker too)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage == "fit":
            vars(self.logger).pop("log", None)

    def state_dict(self) -> dict[str, Any]:
        return {"lines": self.lines}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.lines = [list(line) for line in state_dict["lines"]]
        self.loaded = True

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.loaded:  # continued from a checkpoint: the lines logged before it, again
            self.loaded = False
            replay(self.logger, self.lines)


def replay(logger: RunLogger, lines: list[list]) -> None:
    for metrics, step in lines:
        type(logger).log(logger, metrics, step)


class RankZeroWrites(L.Callback):
    """In the processes a spawning strategy (``ddp_spawn``) starts, only rank 0 logs and
    writes into the run folder: the other ranks' copy of the run's logger (which the stage's
    callbacks share) is muted and points at a scratch folder (``distributed.mute``)."""

    def __init__(self, logger: RunLogger) -> None:
        self.logger = logger

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if trainer.global_rank != 0:
            distributed.mute(self.logger)


def _spawned(trainer: L.Trainer) -> bool:
    """The fit runs in processes the strategy starts (``ddp_spawn``): this process's
    callbacks and loops never see it; only the weights and metrics of rank 0 come back."""
    from lightning.pytorch.strategies.launchers.multiprocessing import _MultiProcessingLauncher

    return isinstance(getattr(trainer.strategy, "launcher", None), _MultiProcessingLauncher)


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
    callbacks = list(extra.pop("callbacks", []))
    if logger is None:
        trainer = make_trainer(trainer_cfg, max_epochs, logger, callbacks=callbacks, **extra)
        return _run(trainer, module, data, test)
    checkpoints = ck is not None and ck.every_n_epochs > 0
    index = getattr(logger, "num_fits", 0) + 1
    fit_dir = resume.checkpoint_root(logger) / "checkpoints" / f"fit{index}"
    last, done = fit_dir / "last.ckpt", fit_dir / "done.pt"
    schedule = _schedule(trainer_cfg, max_epochs, extra)
    if checkpoints and ck.resume and done.is_file() and last.is_file():
        finished = torch.load(done, weights_only=True)
        if finished["schedule"] == schedule:
            logger.num_fits = index  # the fit's folders keep their numbers
            _load(last, module, callbacks)
            replay(logger, finished.get("lines", []))
            resume.set_rng_state(finished["rng"])
            return dict(finished["metrics"])
    lines = LoggedLines(logger)
    checkpoint = AtomicCheckpoint(
        dirpath=fit_dir,
        filename="last",
        every_n_epochs=ck.every_n_epochs if checkpoints else 0,
        save_on_train_epoch_end=True,
        enable_version_counter=False,
    )
    trainer = make_trainer(
        trainer_cfg,
        max_epochs,
        logger,
        callbacks=[RankZeroWrites(logger), RandomState(), lines, *callbacks, checkpoint],
        enable_checkpointing=True,
        **extra,
    )
    spawned = _spawned(trainer)
    if not checkpoints and not spawned:  # nothing to keep: no checkpoint files at all
        trainer.callbacks.remove(checkpoint)
    scratch = None
    if not checkpoints and spawned:  # the final state only, to bring rank 0's callbacks back
        scratch = tempfile.TemporaryDirectory(prefix="nasrepro-fit")
        checkpoint.dirpath = scratch.name
        last = Path(scratch.name) / "last.ckpt"
    resumed = checkpoints and ck.resume and last.is_file()
    csv_log = Path(logger.run_dir) / "lightning" / f"fit{index}" / "metrics.csv"
    kept = _csv_rows(csv_log, before_epoch=_epochs_in(last)) if resumed else []
    try:
        metrics = _run(trainer, module, data, test, str(last) if resumed else None)
        if spawned:  # rank 0's callbacks (histories, logged lines) from its last state
            finished = last.is_file() and _load(last, None, [lines, *callbacks])
        else:
            finished = _finished(trainer)
    finally:
        if scratch is not None:
            scratch.cleanup()
    if kept:  # Lightning's CSV logger started the fit's file afresh
        _prepend_rows(csv_log, kept)
    if checkpoints and finished and trainer.is_global_zero:
        state = {"metrics": metrics, "rng": resume.rng_state(), "schedule": schedule}
        resume.save_atomic({**state, "lines": lines.lines}, done)
    return metrics


def _load(path: Path, module: L.LightningModule | None, callbacks: list) -> bool:
    """Weights (into ``module``, if given) and callback states from a checkpoint; whether it
    is the final state of a fit that ran its schedule."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if module is not None:
        module.load_state_dict(state["state_dict"])
    saved = state.get("callbacks", {})
    for cb in callbacks:
        if cb.state_key in saved:
            cb.load_state_dict(saved[cb.state_key])
    return any(s.get("finished") for k, s in saved.items() if k.startswith("AtomicCheckpoint"))


def _epochs_in(path: Path) -> int:
    state = torch.load(path, map_location="cpu", weights_only=True)
    return int(state["loops"]["fit_loop"]["epoch_progress"]["current"]["processed"])


def _csv_rows(path: Path, before_epoch: int | None = None) -> list[dict]:
    """The rows of a Lightning CSV log (those of epochs before ``before_epoch``)."""
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if before_epoch is None:
        return rows
    return [r for r in rows if r.get("epoch") and int(float(r["epoch"])) < before_epoch]


def _prepend_rows(path: Path, rows: list[dict]) -> None:
    """Put ``rows`` before the rows the file now holds (the union of both headers)."""
    new = _csv_rows(path)
    keys = sorted({k for r in rows + new for k in r})
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows + new)
    os.replace(tmp, path)


def _run(
    trainer: L.Trainer,
    module: L.LightningModule,
    data: L.LightningDataModule,
    test: bool,
    ckpt_path: str | None = None,
) -> dict[str, float]:
    trainer.fit(module, datamodule=data, ckpt_path=ckpt_path, weights_only=True)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    metrics = distributed.broadcast(metrics)  # rank 0's: every rank's task goes on alike
    distributed.sync_module(module)  # and rank 0's weights (BatchNorm statistics differ)
    if test:
        tester = trainer if trainer.world_size == 1 else _one_device(trainer)
        log = Path(tester.log_dir or "") / "metrics.csv" if tester.loggers else None
        fresh = any(getattr(lg, "_experiment", True) is None for lg in tester.loggers)
        kept = _csv_rows(log) if log is not None and fresh else []  # it would start afresh
        tester.test(module, datamodule=data, verbose=False)
        if kept:
            _prepend_rows(log, kept)
        metrics.update(
            {k: float(v) for k, v in tester.callback_metrics.items() if k.startswith("test/")}
        )
    return metrics


def _one_device(trainer: L.Trainer) -> L.Trainer:
    """A Trainer for the test pass of a fit that ran on several devices: the whole test split
    on one device, in every process that runs it (a distributed test would score each rank's
    shard, and only rank 0's would be returned). Logs beside the fit, from rank 0 only."""
    device = trainer.strategy.root_device
    return L.Trainer(
        accelerator=trainer.accelerator,
        devices=[device.index] if device.type == "cuda" and device.index is not None else 1,
        strategy="auto",
        num_nodes=1,
        precision=trainer.precision,
        logger=trainer.loggers if trainer.global_rank == 0 else False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        default_root_dir=trainer.default_root_dir,
    )
