"""Training a DARTS-space network from scratch to evaluate it (Liu et al., ICLR 2019, Sect.
3.2, App. A.2.1; authors' code cnn/train.py): SGD (momentum 0.9, weight decay 3e-4), cosine
from 0.025 to 0 stepped once per epoch, auxiliary loss weighted 0.4, drop-path probability
raised linearly from 0 to 0.2 over training, gradient norm clipped at 5 (the Trainer does that).

Shared: every paper that evaluates its cells in the DARTS space (DARTS, TE-NAS, ENAS,
PC-DARTS) trains them with this schedule; see ``common/protocols/darts_eval.py``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common.speed import Speed
from common.training.classifier import ClassifierModule


class DartsEvalModule(ClassifierModule):
    def __init__(
        self,
        net: nn.Module,
        lr: float = 0.025,
        momentum: float = 0.9,
        weight_decay: float = 3e-4,
        max_epochs: int = 600,
        auxiliary_weight: float = 0.4,
        drop_path_prob: float = 0.2,
        speed: Speed | None = None,
    ) -> None:
        super().__init__(
            net,
            lr=lr,
            momentum=momentum,
            nesterov=False,
            weight_decay=weight_decay,
            max_epochs=max_epochs,
            lr_min=0.0,
            speed=speed,
        )
        self.save_hyperparameters(ignore=["net", "speed"])
        self.auxiliary_weight = auxiliary_weight
        self.drop_path_prob = drop_path_prob

    def on_train_epoch_start(self) -> None:
        # train.py: model.drop_path_prob = args.drop_path_prob * epoch / args.epochs
        self.net.drop_path_prob = self.drop_path_prob * self.current_epoch / self.max_epochs

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        x, y = batch
        logits, aux = self.forward_with_aux(x)
        loss = self.criterion(logits, y)
        if aux is not None and self.auxiliary_weight > 0:
            loss = loss + self.auxiliary_weight * self.criterion(aux, y)
        acc = (logits.argmax(dim=1) == y).float().mean() * 100.0
        self.log("train/loss", loss, on_step=False, on_epoch=True, batch_size=y.size(0))
        self.log("train/acc", acc, on_step=False, on_epoch=True, batch_size=y.size(0))
        return loss

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.SGD(
            self.parameters(), lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay
        )
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=self.max_epochs, eta_min=self.lr_min
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"},
        }
