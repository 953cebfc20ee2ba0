"""ENAS's final training of a fixed architecture in its own network (``scripts/cifar10_macro_final
.sh``, ``cifar10_micro_final.sh`` @4bcfd73; ``src/utils.py`` ``get_train_ops``): SGD with
Nesterov momentum 0.9 (L212-214), l2 ``child_l2_reg * sum(w^2)`` (weight decay ``2 *``) on
the trained variables, SGDR per epoch from ``lr_max`` to ``lr_min`` (``T_0`` 10, ``T_mul`` 2,
L154-183), no gradient clipping (L141-150 never uses the clipped list), loss + 0.4 auxiliary
loss where the network has a head (whose own weights are not trained, micro_child.py
L721-729). The micro network's drop path grows with ``step / total steps`` (L202-204).

Task ``train_final``: ``cfg.final.network`` (a network config; ``arc=<file>`` replaces a macro
network's released arc by a search's ``arc.json`` or run record, and its depth by the arc's:
ENAS searched 12 layers and trained a released 24-layer arc, and does not say how one
becomes the other; ``arc=random``: a uniform random arc of the configured depth, drawn from
the run's seed), ``cfg.final.optim``, ``cfg.final.epochs``,
``cfg.final.data``; trains on the whole training set and reports the test accuracy after the
last epoch (no selection on the test split).
"""

from __future__ import annotations

import random
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from common.errors import NasReproError
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.speed import Speed
from common.training.classifier import ClassifierModule
from common.training.fit import fit
from reproductions.enas.macro_search import MacroArc
from reproductions.enas.micro_search import sgdr_lr

FINAL_METRIC = "test accuracy after the last epoch (no test-set selection)"


class FinalModule(ClassifierModule):
    def __init__(
        self,
        net: torch.nn.Module,
        lr_max: float = 0.05,
        lr_min: float = 1e-3,
        t0: int = 10,
        t_mul: int = 2,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 4e-4,
        aux_weight: float = 0.4,
        max_epochs: int = 310,
        speed: Speed | None = None,
    ) -> None:
        super().__init__(
            net, lr_max, momentum, nesterov, weight_decay, max_epochs, lr_min, speed=speed
        )
        self.save_hyperparameters(ignore=["net", "speed"])
        self.t0, self.t_mul, self.aux_weight = t0, t_mul, aux_weight

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        x, y = batch
        if hasattr(self.net, "step_ratio"):  # micro_child.py L202-203
            total = max(1, self.trainer.estimated_stepping_batches)
            self.net.step_ratio = min(1.0, (self.global_step + 1) / total)
        logits, aux = self.forward_with_aux(x)
        loss = self.criterion(logits, y)
        if aux is not None and self.aux_weight:
            loss = loss + self.aux_weight * self.criterion(aux, y)
        acc = (logits.argmax(1) == y).float().mean() * 100.0
        self.log("train/loss", loss, on_step=False, on_epoch=True, batch_size=len(y))
        self.log("train/acc", acc, on_step=False, on_epoch=True, batch_size=len(y))
        return loss

    def configure_optimizers(self) -> Any:
        aux = self.net.aux_head
        skip = {id(p) for p in aux.parameters()} if aux is not None else set()
        opt = torch.optim.SGD(
            [p for p in self.net.parameters() if id(p) not in skip],
            lr=self.lr,
            momentum=self.momentum,
            nesterov=self.nesterov,
            weight_decay=self.weight_decay,
        )
        lr_at = lambda e: sgdr_lr(e, self.lr, self.lr_min, self.t0, self.t_mul) / self.lr  # noqa: E731
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def train_final(cfg: DictConfig, logger: RunLogger) -> RunResult:
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    data = instantiate(cfg.final.data)
    network = OmegaConf.to_container(cfg.final.network, resolve=True)
    if cfg.get("arc") and not network["_target_"].endswith("EnasMacroFinalNet"):
        raise NasReproError(
            f"arc={cfg.arc}: only ENAS's final macro network takes an arc; this experiment"
            f" trains {network['_target_']} (leave arc=null)"
        )
    if cfg.get("arc") == "random":  # the baseline: a uniform arc of the configured depth
        arc = MacroArc.sample(network["num_layers"], random.Random(cfg.seed))
        network.update(arc=list(arc.row))
    elif cfg.get("arc"):
        arc = MacroArc.load(cfg.arc)
        network.update(arc=list(arc.row), num_layers=arc.num_layers)
    net = instantiate(network, num_classes=data.num_classes)
    speed = Speed.from_cfg(cfg.get("speed"))
    module = FinalModule(net, max_epochs=cfg.final.epochs, speed=speed, **cfg.final.optim)
    metrics = fit(module, data, cfg.trainer, cfg.final.epochs, logger, test=True)
    params = sum(p.numel() for p in net.parameters())
    return RunResult(
        metrics={"test_acc": [metrics["test/acc"]], "test_error": [100.0 - metrics["test/acc"]]},
        data_variant=data.data_variant,
        protocol={
            "network": network,
            "arc_file": cfg.get("arc"),
            "epochs": cfg.final.epochs,
            "optim": OmegaConf.to_container(cfg.final.optim, resolve=True),
            "final_metric": FINAL_METRIC,
        },
        diagnostics={"train_acc": metrics.get("train/acc")},
        cost={"params_m": params / 1e6},
    )
