"""Supervised training of a fixed classifier network with SGD and cosine annealing.

The defaults are NAS-Bench-201's training recipe (Dong & Yang, ICLR 2020, Sect. 2.3;
official config ``configs/nas-benchmark/hyper-opts/200E.config``): 200 epochs, SGD with
Nesterov momentum 0.9, lr 0.1 annealed by cosine to 0, weight decay 5e-4 on every parameter
(BN and biases included), plain cross-entropy, batch size 256 (the batch size belongs to the
data module).

Speed options (``common.speed.Speed``, the run's ``speed`` config node) change how the
network runs, not what it computes: the network's parameters and every input batch in the
memory layout chosen (``channels_last``: NHWC), its forward compiled (``torch.compile``) and
run under bf16 autocast where asked. Logits come back in float32 whatever the precision, so
the loss and accuracy are computed alike; the weights and the optimiser stay float32.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable
from typing import Any

import lightning
import torch
from torch import nn

from common.errors import NasReproError
from common.speed import Speed


def check_compile(speed: Speed) -> None:
    """``speed.compile`` needs a C++ compiler (torch.compile's CPU code generator; CUDA
    machines have one too): without one, one line now rather than a traceback mid-fit."""
    if speed.compile and not any(
        shutil.which(c) for c in (os.environ.get("CXX", ""), "g++", "c++", "clang++") if c
    ):
        raise NasReproError(
            "speed.compile=true: torch.compile needs a C++ compiler (g++, clang++ or $CXX);"
            " none found on PATH"
        )


class ClassifierModule(lightning.LightningModule):
    """Train any ``net`` that maps an image batch to logits, on ``(x, y)`` batches.

    Logs ``{train,val,test}/loss`` and ``{train,val,test}/acc`` (top-1, in percent) as epoch
    means weighted by batch size, so the epoch value is the exact dataset accuracy.
    """

    def __init__(
        self,
        net: nn.Module,
        # Source of the defaults: NB-201 Sect. 2.3 / configs/nas-benchmark/hyper-opts/200E.config
        lr: float = 0.1,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 5e-4,
        max_epochs: int = 200,
        lr_min: float = 0.0,
        label_smoothing: float = 0.0,  # NB-201 uses plain cross-entropy ("Softmax" criterion)
        speed: Speed | None = None,  # layout, compile, precision; default: NCHW, eager, fp32
    ) -> None:
        super().__init__()
        # The network is a module, not a hyperparameter: it is saved in the state dict. The
        # speed options are recorded in the run's record (cost.speed), not in checkpoints.
        self.save_hyperparameters(ignore=["net", "speed"])
        self.speed = speed or Speed()
        check_compile(self.speed)
        self.net = self.speed.module(net)
        self._compiled: dict[str, Callable] = {}
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.lr_min = lr_min
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_net("forward", x)

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The network's ``forward_with_aux`` (logits and auxiliary logits or None)."""
        return self.run_net("forward_with_aux", x)

    def run_net(self, method: str, x: torch.Tensor) -> Any:
        """``self.net.<method>(x)`` with the speed options: ``x`` in the network's layout,
        the method compiled once per method (``torch.compile`` guards recompile it where
        the network's mode changes, train/eval), bf16 autocast (its outputs cast back to float32)."""
        fn = getattr(self.net, method)
        if self.speed.compile:
            if method not in self._compiled:
                self._compiled[method] = torch.compile(fn)
            fn = self._compiled[method]
        with self.speed.autocast(x.device.type):
            out = fn(self.speed.tensor(x))
        if self.speed.precision == "fp32":
            return out
        if isinstance(out, tuple):
            return tuple(o.float() if isinstance(o, torch.Tensor) else o for o in out)
        return out.float()

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        return self._shared_step(batch, "train")

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        return self._shared_step(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        return self._shared_step(batch, "test")

    def configure_optimizers(self) -> Any:
        """SGD on all parameters, cosine from ``lr`` to ``lr_min`` over ``max_epochs`` epochs.

        The official NB-201 scheduler updates the lr every iteration (at fractional epochs), so
        the schedule steps per optimizer step when the number of steps per epoch is known, and
        per epoch otherwise (no trainer attached, or an iterable dataset without a length).
        """
        optimizer = torch.optim.SGD(
            self.parameters(),
            lr=self.lr,
            momentum=self.momentum,
            nesterov=self.nesterov,
            weight_decay=self.weight_decay,
        )
        steps_per_epoch = self._steps_per_epoch()
        interval = "epoch" if steps_per_epoch is None else "step"
        t_max = self.max_epochs * (steps_per_epoch or 1)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=t_max, eta_min=self.lr_min
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": interval, "frequency": 1},
        }

    def _shared_step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = self.criterion(logits, y)
        acc = (logits.argmax(dim=1) == y).float().mean() * 100.0
        n = y.size(0)
        self.log(f"{stage}/loss", loss, on_step=False, on_epoch=True, batch_size=n)
        self.log(f"{stage}/acc", acc, on_step=False, on_epoch=True, batch_size=n, prog_bar=True)
        return loss

    def _steps_per_epoch(self) -> int | None:
        """Optimizer steps per training epoch, or None where Lightning cannot know it."""
        trainer = self._trainer
        if trainer is None:
            return None
        trainer.estimated_stepping_batches  # noqa: B018  (loads the train loader if needed)
        batches = trainer.num_training_batches
        if not math.isfinite(batches) or batches <= 0:
            return None
        return math.ceil(batches / trainer.accumulate_grad_batches)
