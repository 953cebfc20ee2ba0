"""The final training of MetaQNN's top CIFAR-10 network (Baker et al., ICLR 2017, Sect. 5).

"In the final training scheme, we set a learning rate of 0.025 for 40 epochs, 0.0125 for 40
epochs, 0.0001 for 160 epochs, and 0.00001 for 60 epochs, with all other parameters
unchanged", on the full training set, with random mirroring and translations of up to 5
pixels. The optimizer is the released solver's (static/solver/cifar10_0_solver.prototxt
@a25847f): SGD, momentum 0.9, weight decay 5e-4 (Caffe: on every parameter). The network keeps
the search's dropout. The reported number is the test accuracy after the last epoch (there is no
validation split left to select on).
"""

from __future__ import annotations

import timm
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from common.results.logging import RunLogger
from common.results.record import RunResult
from common.speed import Speed
from common.training.classifier import ClassifierModule
from common.training.fit import fit
from reproductions.metaqnn import models as _models  # noqa: F401  (registers metaqnn_cifar10)


class PiecewiseModule(ClassifierModule):
    """``ClassifierModule`` with plain SGD and a piecewise-constant learning rate per epoch:
    ``stages`` = [[lr, epochs], ...] in order."""

    def __init__(self, net: torch.nn.Module, stages: list[list[float]], **kwargs) -> None:
        super().__init__(net, lr=float(stages[0][0]), nesterov=False, **kwargs)
        self.stages = [(float(lr), int(n)) for lr, n in stages]

    def lr_at(self, epoch: int) -> float:
        for lr, n in self.stages:
            if epoch < n:
                return lr
            epoch -= n
        return self.stages[-1][0]

    def configure_optimizers(self):
        opt = torch.optim.SGD(
            self.parameters(), lr=1.0, momentum=self.momentum, weight_decay=self.weight_decay
        )
        sched = torch.optim.lr_scheduler.LambdaLR(opt, self.lr_at)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    data = instantiate(cfg.data)
    net = timm.create_model(cfg.model.name, num_classes=data.num_classes)
    epochs = sum(int(n) for _, n in cfg.optim.stages)
    module = PiecewiseModule(
        net,
        [list(s) for s in cfg.optim.stages],
        momentum=cfg.optim.momentum,
        weight_decay=cfg.optim.weight_decay,
        max_epochs=epochs,
        speed=Speed.from_cfg(cfg.get("speed")),
    )
    metrics = fit(module, data, cfg.trainer, epochs, logger, test=True)
    params = sum(p.numel() for p in net.parameters())
    return RunResult(
        metrics={"test_error": [100.0 - metrics["test/acc"]], "test_acc": [metrics["test/acc"]]},
        data_variant=data.data_variant,
        protocol={
            "model": cfg.model.name,
            "epochs": epochs,
            "stages": [list(s) for s in cfg.optim.stages],
            "final_metric": "test error after the last epoch",
        },
        diagnostics={"train_acc": metrics.get("train/acc")},
        cost={"trained_epochs": epochs, "params": params},
    )
