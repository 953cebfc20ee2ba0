"""ENAS on NAS-Bench-201 with shared weights, as a Lightning module (Pham et al., ICML 2018,
Sect. 2.2-2.3; the NB-201 paper's re-implementation, D-X-Y/AutoDL-Projects @f46486e
``exps/NAS-Bench-201-algos/ENAS.py``).

Every epoch alternates the two phases of the paper and of ``ENAS.py``'s epoch loop (L375-422):

1. **Shared weights** (``train_shared_cnn``, L46-64): one pass over the training half; each
   step draws a fresh child from the controller (no gradient), switches the single-path
   supernet to it (``SinglePathMixer.set_choice``) and takes an SGD step on its loss (norm
   clipped at 5). The learning rate is set per epoch by AutoDL's cosine, whose period is
   ``w_t_max`` epochs, not the schedule's length (ENAS.config ``T_max 10``; the ``cos``
   scheduler only reads the integer epoch, optimizers.py L81-96).
2. **Controller** (``train_controller``, L123-172), run here in ``on_train_epoch_end``: the
   supernet in eval mode, ``ctl_train_steps`` updates, each from ``ctl_num_aggregate``
   children scored on one minibatch each of the other half (the reward: that accuracy as a
   fraction), through ``common.controllers.reinforce.reinforce_update``.

Then, as diagnostics per epoch: the end-of-epoch policy's share of parameter-free ops
(``none``, ``skip_connect``, ``avg_pool_3x3``) and per op over ``probe_samples`` draws, its
mean entropy, and AutoDL's per-epoch pick (the best of ``epoch_samples`` children, each on
one minibatch, ``get_best_arch``, L203-228). After training (``on_train_end``, before
Lightning moves the module off the device): the derived cell, the best of
``derive_samples`` children each scored on one minibatch (L502-504: 100), and, for the
ranking diagnostic, the shared weights' accuracy of fixed cells as the controller sees them
(eval mode, the supernet's BN state) and with re-estimated BN statistics
(``common.evaluators.inherited``). Supernet accuracies are diagnostics, never results.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

from common.controllers.lstm_policy import LstmPolicy
from common.controllers.reinforce import MovingAverageBaseline, controller_adam, reinforce_update
from common.evaluators.inherited import InheritedWeightsEvaluator, accuracy
from common.spaces.nb201.arch import OPS, Nb201Arch
from common.speed import Speed
from common.supernets.nb201 import arch_mask

PARAMETER_FREE = ("none", "skip_connect", "avg_pool_3x3")
Batch = tuple[torch.Tensor, torch.Tensor]


def cycle(batches: Iterable[Batch]) -> Iterator[Batch]:
    """Minibatches without end, restarting the loader when it runs out (ENAS.py L127-133)."""
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("no batches to draw rewards from")


def autodl_cosine_lr(epoch: int, lr: float, lr_min: float, t_max: int) -> float:
    """AutoDL's ``cos`` schedule for epoch ``epoch`` (optimizers.py L81-96, no warmup):
    ``lr_min + (lr - lr_min) (1 + cos(pi epoch / t_max)) / 2``, periodic in ``2 t_max``."""
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * epoch / t_max))


class EnasSearchModule(L.LightningModule):
    def __init__(
        self,
        net: nn.Module,
        controller: LstmPolicy,
        reward_batches: Iterable[Batch],
        w_lr: float = 0.05,
        w_lr_min: float = 5e-4,
        w_t_max: int = 10,
        w_momentum: float = 0.9,
        w_nesterov: bool = True,
        w_weight_decay: float = 2.5e-4,
        grad_clip: float = 5.0,
        ctl_lr: float = 1e-3,
        ctl_betas: Sequence[float] = (0.0, 0.999),
        ctl_eps: float = 1e-3,
        ctl_grad_clip: float | None = 5.0,
        ctl_train_steps: int = 50,
        ctl_num_aggregate: int = 20,
        entropy_weight: float = 1e-4,
        baseline_decay: float = 0.99,
        baseline_hold_within_epoch: bool = True,
        skip_weight: float = 0.0,
        epoch_samples: int = 10,
        derive_samples: int = 100,
        probe_samples: int = 1000,
        rank_archs: Sequence[Nb201Arch] = (),
        rank_bn_batches: Sequence[Batch] = (),
        rank_val_batches: Sequence[Batch] = (),
        speed: Speed | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            ignore=[
                "net",
                "controller",
                "reward_batches",
                "rank_archs",
                "rank_bn_batches",
                "rank_val_batches",
                "speed",
            ]
        )
        # memory layout and precision of the shared-weight passes (common/speed.py)
        self.speed = speed or Speed()
        self.net, self.controller = self.speed.module(net), controller
        self.reward_batches = reward_batches
        self.rank_archs = list(rank_archs)
        self.rank_bn_batches, self.rank_val_batches = list(rank_bn_batches), list(rank_val_batches)
        self.automatic_optimization = False
        # AutoDL: no baseline before the first controller step, then held within each epoch
        self.baseline = MovingAverageBaseline(
            baseline_decay,
            initial=None if baseline_hold_within_epoch else 0.0,
            hold_within_epoch=baseline_hold_within_epoch,
        )
        self.history: list[dict[str, Any]] = []
        self.final: dict[str, Any] = {}
        self.ranking: dict[str, Any] = {}
        self._epoch_start = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def on_train_epoch_start(self) -> None:
        self._epoch_start = time.perf_counter()
        hp = self.hparams
        lr = autodl_cosine_lr(self.current_epoch, hp.w_lr, hp.w_lr_min, hp.w_t_max)
        w_opt = self.optimizers()[0].optimizer
        for group in w_opt.param_groups:
            group["lr"] = lr
        self.log("search/w_lr", lr, on_step=False, on_epoch=True)

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        x, y = batch
        w_opt = self.optimizers()[0].optimizer
        self.set_child(self.draw(1)[0])
        with self.speed.autocast(self.device.type):
            logits = self.net(self.speed.tensor(x)).float()
        loss = F.cross_entropy(logits, y)
        w_opt.zero_grad()
        self.manual_backward(loss)
        nn.utils.clip_grad_norm_(self.net.parameters(), self.hparams.grad_clip)
        w_opt.step()
        acc = (logits.argmax(1) == y).float().mean() * 100
        self.log("search/train_loss", loss.detach(), on_step=False, on_epoch=True)
        self.log("search/train_acc", acc, on_step=False, on_epoch=True)

    def on_train_epoch_end(self) -> None:
        hp = self.hparams
        c_opt = self.optimizers()[1].optimizer
        rewards = cycle(self.reward_batches)
        stats = []
        self.net.eval()  # ENAS.py L123: shared_cnn.eval() while the controller trains
        with torch.enable_grad():
            for _ in range(hp.ctl_train_steps):
                rows = self.draw(hp.ctl_num_aggregate)
                accs = [self.child_accuracy(row, next(rewards)) / 100 for row in rows]
                stats.append(
                    reinforce_update(
                        self.controller,
                        c_opt,
                        rows,
                        accs,
                        self.baseline,
                        hp.entropy_weight,
                        skip_weight=hp.skip_weight,
                        grad_clip=hp.ctl_grad_clip,
                    )
                )
        self.baseline.end_epoch()
        pick, pick_acc, _ = self.best_of(hp.epoch_samples, rewards)
        self.net.train()
        entry = {
            "epoch": self.current_epoch,
            **self.policy_profile(hp.probe_samples),
            "controller_reward": _mean([s["reward"] for s in stats]),
            "controller_baseline": stats[-1]["baseline"] if stats else self.baseline.value,
            "epoch_pick": str(pick),
            "epoch_pick_minibatch_acc": pick_acc,
            "epoch_wall_s": time.perf_counter() - self._epoch_start,
        }
        self.history.append(entry)
        for key in ("param_free_share", "policy_entropy", "controller_reward"):
            self.log(f"enas/{key}", float(entry[key]), on_step=False, on_epoch=True)

    def on_train_end(self) -> None:
        """Derive the cell (on the device, before Lightning's teardown) and score the ranking
        cells with the shared weights."""
        arch, acc, candidates = self.best_of(
            self.hparams.derive_samples, cycle(self.reward_batches)
        )
        self.final = {"arch": arch, "minibatch_acc": acc, "num_candidates": len(candidates)}
        if self.rank_archs:
            self.ranking = self.rank_cells()
        self.net.train()

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        hp = self.hparams
        w_opt = torch.optim.SGD(
            self.net.parameters(),  # ENAS.py L310: shared_cnn.parameters(), decay on all
            lr=hp.w_lr,
            momentum=hp.w_momentum,
            nesterov=hp.w_nesterov,
            weight_decay=hp.w_weight_decay,
        )
        c_opt = controller_adam(self.controller, hp.ctl_lr, hp.ctl_betas, hp.ctl_eps)
        return [w_opt, c_opt]

    # ENAS's pieces -----------------------------------------------------------------------------

    @torch.no_grad()
    def draw(self, n: int) -> torch.Tensor:
        return self.controller.sample(n).decisions

    def set_child(self, row: torch.Tensor | Nb201Arch) -> Nb201Arch:
        arch = row if isinstance(row, Nb201Arch) else Nb201Arch.from_indices(row.tolist())
        self.net.mixer.set_choice({"cell": arch.ops})
        return arch

    @torch.no_grad()
    def child_accuracy(self, row: torch.Tensor | Nb201Arch, batch: Batch) -> float:
        """A child's accuracy (%) on one minibatch with the shared weights, in the mode the
        supernet is in (ENAS.py L139-143)."""
        self.set_child(row)
        x, y = (t.to(self.device) for t in batch)
        with self.speed.autocast(self.device.type):
            logits = self.net(self.speed.tensor(x))
        return float((logits.argmax(1) == y).float().mean() * 100)

    @torch.no_grad()
    def best_of(self, n: int, rewards: Iterator[Batch]) -> tuple[Nb201Arch | None, float, list]:
        """``get_best_arch``: ``n`` children, each scored on the next minibatch; the first best."""
        was_training = self.net.training
        self.net.eval()
        scored = []
        for row in self.draw(n):
            arch = Nb201Arch.from_indices(row.tolist())
            scored.append((arch, self.child_accuracy(arch, next(rewards))))
        self.net.train(was_training)
        if not scored:
            return None, math.nan, []
        best = max(range(len(scored)), key=lambda i: (scored[i][1], -i))
        return scored[best][0], scored[best][1], [(str(a), s) for a, s in scored]

    @torch.no_grad()
    def policy_profile(self, n: int) -> dict[str, Any]:
        """Share of each op and of the parameter-free ops over ``n`` draws; mean entropy."""
        drawn = self.controller.sample(n)
        counts = Counter(drawn.decisions.flatten().tolist())
        total = drawn.decisions.numel()
        shares = {op: counts.get(i, 0) / total for i, op in enumerate(OPS)}
        return {
            "param_free_share": sum(shares[op] for op in PARAMETER_FREE),
            "op_shares": shares,
            "policy_entropy": float(drawn.entropy.mean()),
        }

    def rank_cells(self) -> dict[str, Any]:
        """Shared-weight accuracy of ``rank_archs`` on the fixed ``rank_val_batches``: first as
        the controller sees it (eval mode, the supernet's BN state), then with BN statistics
        re-estimated on ``rank_bn_batches`` (which resets them: it comes second)."""
        dev = self.device
        val = [(x.to(dev), y.to(dev)) for x, y in self.rank_val_batches]
        bn = [(x.to(dev), y.to(dev)) for x, y in self.rank_bn_batches]
        as_rewarded = []
        for arch in self.rank_archs:
            self.set_child(arch)
            as_rewarded.append(accuracy(self.net, val))
        evaluator = InheritedWeightsEvaluator(self.net, arch_mask, bn, val)
        recalibrated = [evaluator.evaluate(arch).score for arch in self.rank_archs]
        return {
            "archs": [str(a) for a in self.rank_archs],
            "as_rewarded": as_rewarded,
            "bn_recalibrated": recalibrated,
            "wall_s": evaluator.spent_s,
        }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan
