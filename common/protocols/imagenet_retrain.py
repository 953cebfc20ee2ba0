"""Retrain an architecture from scratch on ImageNet with a paper's schedule and report its
top-1 / top-5 accuracy and error on the official validation set (ImageNet's test set in every
paper): SPOS's searched model (Guo et al., ECCV 2020; official ``src/Evaluation/template/
train.py`` @36eed6c) and FairNAS-A/B/C (Chu, Zhang & Xu, ICCV 2021, Table 2).

The schedule counts optimiser steps (``cfg.retrain.iterations``; SPOS: 300,000 of batch 1,024):
SGD on the paper's parameter groups, a per-step linear (SPOS ``LambdaLR(1 - step / total)``) or
cosine decay, label smoothing, then optionally SPOS's batch-norm post-process: one more pass of
training batches that re-estimates the running statistics as a cumulative average with the
weights frozen (``train(..., bn_process=True)``: BN momentum ``1 / iters`` at learning rate 0).
No checkpoint is selected on the test set: the last step is tested once.

The network is a published model named in config (``retrain.network``, e.g.
``reproductions.spos.models.spos``), or, with ``arch_file`` (the ``found_arch.json`` a search
stage wrote), the space's discrete network (``retrain.space_network``) of that architecture.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig
from torch import nn

from common.errors import NasReproError, choices_error
from common.evaluators.inherited import recalibrate_batch_norm
from common.protocols.imagenet_search import trainer_steps
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.speed import Speed
from common.training.classifier import ClassifierModule
from common.training.fit import fit

SCHEDULES = ("linear", "cosine")
FINAL_METRIC = "official validation set after the last step (no checkpoint selection)"


class ImageNetClassifier(ClassifierModule):
    """``ClassifierModule`` with an iteration schedule and the ImageNet recipes' choices:
    weight decay on conv/linear weights only (``decay_all=False``, SPOS ``utils.get_parameters``)
    or on all parameters, a per-step ``linear`` (to 0) or ``cosine`` (to ``lr_min``) decay over
    ``iterations`` steps, and top-5 accuracy beside top-1."""

    def __init__(
        self,
        net: nn.Module,
        iterations: int,
        lr: float = 0.5,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 4e-5,
        decay_all: bool = False,
        schedule: str = "linear",
        lr_min: float = 0.0,
        label_smoothing: float = 0.1,
        speed: Speed | None = None,
    ) -> None:
        if schedule not in SCHEDULES:
            raise choices_error("retrain.optim.schedule", schedule, SCHEDULES)
        super().__init__(
            net,
            lr=lr,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=weight_decay,
            max_epochs=1,  # unused: the schedule counts steps
            lr_min=lr_min,
            label_smoothing=label_smoothing,
            speed=speed,
        )
        self.iterations, self.decay_all, self.schedule = int(iterations), decay_all, schedule

    def configure_optimizers(self) -> Any:
        if self.decay_all:
            groups: list[dict] = [{"params": list(self.net.parameters())}]
        else:  # SPOS get_parameters: 'weight' in the name and more than one dimension
            decay = [p for n, p in self.net.named_parameters() if "weight" in n and p.dim() > 1]
            ids = {id(p) for p in decay}
            rest = [p for p in self.net.parameters() if id(p) not in ids]
            groups = [{"params": decay}, {"params": rest, "weight_decay": 0.0}]
        optimizer = torch.optim.SGD(
            groups,
            lr=self.lr,
            momentum=self.momentum,
            nesterov=self.nesterov,
            weight_decay=self.weight_decay,
        )
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self._factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1},
        }

    def _factor(self, step: int) -> float:
        """The learning rate at ``step`` over ``lr``."""
        frac = min(step / self.iterations, 1.0)
        if self.schedule == "linear":
            return 1.0 - frac
        floor = self.lr_min / self.lr
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * frac))

    def _shared_step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = self.criterion(logits, y)
        top5 = logits.topk(min(5, logits.shape[1]), dim=1).indices
        n = y.size(0)
        acc = (top5[:, 0] == y).float().mean() * 100.0
        acc5 = (top5 == y[:, None]).any(dim=1).float().mean() * 100.0
        self.log(f"{stage}/loss", loss, on_step=False, on_epoch=True, batch_size=n)
        self.log(f"{stage}/acc", acc, on_step=False, on_epoch=True, batch_size=n, prog_bar=True)
        self.log(f"{stage}/acc5", acc5, on_step=False, on_epoch=True, batch_size=n)
        return loss


class BatchNormPostProcess(L.Callback):
    """SPOS's post-process after the last step: re-estimate every batch norm's running
    statistics as the cumulative average over ``batches`` training batches (at most one pass
    of the loader), weights unchanged (``template/train.py``, ``bn_process=True``)."""

    def __init__(self, batches: int) -> None:
        self.batches = int(batches)
        self.used = 0

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        limit = min(self.batches, int(trainer.num_training_batches))
        device = pl_module.device
        loader = itertools.islice(trainer.train_dataloader, limit)
        self.used = recalibrate_batch_norm(pl_module.net, ((x.to(device), y) for x, y in loader))


def load_arch(path: str | Path, space: str, arch_class: type) -> Any:
    """The architecture in a ``found_arch.json``; it must belong to ``space``."""
    p = Path(path)
    try:
        found = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise NasReproError(f"cannot read the architecture file {p}: {e}") from e
    if found.get("space") != space:
        raise NasReproError(f"{p} holds a {found.get('space')!r} architecture, not a {space!r} one")
    return arch_class(tuple(found["choices"]))


def build_network(cfg: DictConfig, num_classes: int) -> tuple[nn.Module, str]:
    """The network to retrain and its description (the published model or the arch file's)."""
    if cfg.get("arch_file"):
        if cfg.record.canonical:
            raise NasReproError(
                f"{cfg.experiment_name}'s leaderboard row is its published model's: a retrain of"
                " arch_file cannot be canonical under it (drop record.canonical=true)"
            )
        spec = cfg.retrain.space_network
        arch = load_arch(cfg.arch_file, spec.space, get_class(spec.arch_class))
        # called, not instantiated: Hydra would turn the dataclass ``arch`` into a config
        net = get_class(spec._target_)(arch=arch, num_classes=num_classes)
        return net, f"{spec.space} {list(arch.choices)} from {cfg.arch_file}"
    net = instantiate(cfg.retrain.network, num_classes=num_classes)
    return net, f"published model {cfg.retrain.network._target_}"


def retrain(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Retrain the configured network for ``cfg.retrain.iterations`` steps on all of ImageNet's
    training set and test it once on the official validation set."""
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    data = instantiate(cfg.data)
    if data.split != "full":
        raise NasReproError(f"an ImageNet retrain trains on data.split=full, got {data.split!r}")
    data.setup("fit")
    net, described = build_network(cfg, data.num_classes)
    iterations = int(cfg.retrain.iterations)
    speed = Speed.from_cfg(cfg.get("speed"))
    module = ImageNetClassifier(net, iterations, speed=speed, **cfg.retrain.optim)
    trainer_args, steps = trainer_steps(cfg.trainer, iterations)
    post = BatchNormPostProcess(cfg.retrain.bn_post_process_batches)
    callbacks = [post] if cfg.retrain.bn_post_process_batches else []
    metrics = fit(
        module, data, trainer_args, -1, logger, test=True, max_steps=steps, callbacks=callbacks
    )
    top1, top5 = metrics["test/acc"], metrics["test/acc5"]
    params = sum(p.numel() for p in net.parameters())
    return RunResult(
        metrics={
            "top1_acc": [top1],
            "top5_acc": [top5],
            "top1_error": [100.0 - top1],
            "top5_error": [100.0 - top5],
        },
        data_variant=data.data_variant,
        protocol={
            "network": described,
            "iterations": iterations,
            "batch_size": data.batch_size,
            "optim": dict(cfg.retrain.optim),
            "bn_post_process_batches": post.used,
            "final_metric": FINAL_METRIC,
            "data": data.record(),
        },
        diagnostics={"train_acc_last_epoch": metrics.get("train/acc", float("nan"))},
        cost={"params_m": params / 1e6, "steps_run": int(module.global_step)},
    )
