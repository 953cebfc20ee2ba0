"""DARTS search as a Lightning module (Liu, Simonyan, Yang, ICLR 2019, Sect. 2.3-2.4, Alg. 1,
App. A.1.1; authors' code quark0/darts cnn/train_search.py and cnn/architect.py).

Each training step takes one batch of each half of the training set: an architecture step on
the "arch" half (first order: grad_alpha L_val(w, alpha); second order: eqs. 7-8 with
xi = the current weight learning rate) and a weight step on the "train" half. The DARTS code
steps the architecture first; the NB-201 re-implementation steps the weights first
(``arch_step_first``). Weights: SGD with momentum and weight decay, cosine from ``w_lr`` to
``w_lr_min`` (per epoch in the DARTS code, per step in NB-201's: ``lr_per_step``), gradient
norm clipped. Architecture: Adam. Optimisation is manual because one step holds two
optimisers and an unrolled gradient.

Only the supernet's own accuracies are logged (``search/*``): they are diagnostics, never a
final result.

Speed options (``common/speed.py``, the config node ``speed``): the network is put in the
chosen memory format (``channels_last`` about doubles a CPU step against the default layout;
its CPU BatchNorm kernels round more, see the README's speed section), every input batch
follows it, and the whole step runs under the chosen autocast precision.
``speed.compile`` is refused here: the second-order step evaluates the network at other
weights (``functional_call``), which a compiled module does not take.
"""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F
from torch.profiler import record_function

from common.errors import NasReproError
from common.search.darts_bilevel import first_order_grad, second_order_grad
from common.speed import Speed
from common.training.distributed import average, average_grads


class DartsSearchModule(L.LightningModule):
    def __init__(
        self,
        net: nn.Module,
        order: str = "second",
        arch_step_first: bool = True,
        w_lr: float = 0.025,
        w_lr_min: float = 0.001,
        w_momentum: float = 0.9,
        w_nesterov: bool = False,
        w_weight_decay: float = 3e-4,
        grad_clip: float = 5.0,
        lr_per_step: bool = False,
        a_lr: float = 3e-4,
        a_betas: tuple[float, float] = (0.5, 0.999),
        a_weight_decay: float = 1e-3,
        max_epochs: int = 50,
        speed: Speed | None = None,
    ) -> None:
        super().__init__()
        if order not in ("first", "second"):
            raise ValueError(f"order must be 'first' or 'second', got {order!r}")
        self.speed = speed or Speed()
        if self.speed.compile:
            raise NasReproError(
                "speed.compile=true: not for the DARTS search (its second-order step evaluates"
                " the network at other weights); use speed.memory_format=channels_last"
            )
        self.save_hyperparameters(ignore=["net", "speed"])
        self.net = self.speed.module(net)
        self.automatic_optimization = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        hp = self.hparams
        w_opt, a_opt = (o.optimizer for o in self.optimizers())
        lr = self._set_lr(w_opt, batch_idx)
        train, arch = ((self.speed.tensor(x), y) for x, y in (batch["train"], batch["arch"]))
        with self.speed.autocast(self.device.type):
            out = search_step(
                self.net,
                w_opt,
                a_opt,
                train,
                arch,
                lr,
                hp.order,
                hp.arch_step_first,
                hp.w_momentum,
                hp.w_weight_decay,
                hp.grad_clip,
            )
        for key, value in out.items():
            self.log(f"search/{key}", value, on_step=False, on_epoch=True)
        self.log("search/w_lr", lr, on_step=False, on_epoch=True)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        hp = self.hparams
        w_opt = torch.optim.SGD(
            self.net.weight_parameters(),
            lr=hp.w_lr,
            momentum=hp.w_momentum,
            nesterov=hp.w_nesterov,
            weight_decay=hp.w_weight_decay,
        )
        a_opt = torch.optim.Adam(
            self.net.arch_parameters(),
            lr=hp.a_lr,
            betas=tuple(hp.a_betas),
            weight_decay=hp.a_weight_decay,
        )
        return [w_opt, a_opt]

    def _set_lr(self, w_opt, batch_idx: int) -> float:
        """Cosine annealing from w_lr to w_lr_min over max_epochs (epoch 0 runs at w_lr)."""
        hp = self.hparams
        t = self.current_epoch
        if hp.lr_per_step:
            t += batch_idx / max(self.trainer.num_training_batches, 1)
        lr = hp.w_lr_min + 0.5 * (hp.w_lr - hp.w_lr_min) * (
            1 + math.cos(math.pi * t / hp.max_epochs)
        )
        for group in w_opt.param_groups:
            group["lr"] = lr
        return lr


def search_step(
    net: nn.Module,
    w_opt: torch.optim.Optimizer,
    a_opt: torch.optim.Optimizer,
    train: tuple[torch.Tensor, torch.Tensor],
    arch: tuple[torch.Tensor, torch.Tensor],
    lr: float,
    order: str,
    arch_step_first: bool,
    momentum: float,
    weight_decay: float,
    grad_clip: float,
) -> dict[str, float]:
    """One DARTS step (Alg. 1): an architecture step and a weight step, in the given order.
    Its parts run in profiler ranges named ``darts/<phase>``."""
    out: dict[str, float] = {}

    def weight_step() -> None:
        x, y = train
        arch_params = net.arch_parameters()
        for a in arch_params:  # no gradient for alpha here: it would be computed and thrown away
            a.requires_grad_(False)
        try:
            with record_function("darts/weight_pass"):
                logits = net(x)
                loss = F.cross_entropy(logits, y)
                w_opt.zero_grad()
                loss.backward()
        finally:
            for a in arch_params:
                a.requires_grad_(True)
        with record_function("darts/weight_update"):
            average_grads(net.weight_parameters())  # data-parallel: DDP does not see this step
            nn.utils.clip_grad_norm_(list(net.weight_parameters()), grad_clip)
            w_opt.step()
        out["train_loss"] = float(loss.detach())
        out["train_acc"] = float((logits.argmax(dim=1) == y).float().mean() * 100)

    def arch_step() -> None:
        if order == "first":
            grads, val_loss = first_order_grad(net, F.cross_entropy, arch)
        else:
            params = list(net.weight_parameters())
            bufs = [w_opt.state.get(p, {}).get("momentum_buffer") for p in params]
            grads, val_loss = second_order_grad(
                net,
                F.cross_entropy,
                train,
                arch,
                xi=lr,
                momentum=momentum,
                weight_decay=weight_decay,
                momentum_buffers=bufs,
            )
        with record_function("darts/arch_update"):
            grads = average(list(grads))  # data-parallel: the mean over the ranks' shards
            a_opt.zero_grad()
            for p, g in zip(net.arch_parameters(), grads, strict=True):
                p.grad = g.detach()
            a_opt.step()
        out["arch_loss"] = val_loss

    if arch_step_first:
        arch_step()
        weight_step()
    else:
        weight_step()
        arch_step()
    return out
