"""Supervised training of a fixed classifier network with SGD and cosine annealing.

The defaults are NAS-Bench-201's training recipe (Dong & Yang, ICLR 2020, Sect. 2.3;
official config ``configs/nas-benchmark/hyper-opts/200E.config``): 200 epochs, SGD with
Nesterov momentum 0.9, lr 0.1 annealed by cosine to 0, weight decay 5e-4 on every parameter
(BN and biases included), plain cross-entropy, batch size 256 (the batch size belongs to the
data module).
"""

from __future__ import annotations

import math
from typing import Any

import lightning
import torch
from torch import nn


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
    ) -> None:
        super().__init__()
        # The network is a module, not a hyperparameter: it is saved in the state dict.
        self.save_hyperparameters(ignore=["net"])
        self.net = net
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.lr_min = lr_min
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

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
