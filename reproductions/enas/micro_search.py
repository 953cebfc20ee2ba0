"""ENAS's micro search (Pham et al., ICML 2018, Sect. 2.3, 3.2; melodyguan/enas @4bcfd73
``src/cifar10/main.py``, ``micro_child.py``, ``micro_controller.py``, ``src/utils.py``): the
NB-201 module's alternation (``search_module.EnasSearchModule``) on the micro space, with
the official micro settings where they differ:

- weights: SGD Nesterov momentum 0.9 (utils.py L212-214), l2 ``child_l2_reg * sum(w^2)``
  on every child weight except the auxiliary head (micro_child.py L721-723; as PyTorch weight
  decay ``2 * l2``), no clipping (utils.py L141-150 builds the clipped list from the
  *unclipped* gradients), loss + 0.4 auxiliary loss (L707-711). The auxiliary head is not in
  the trained variables (L721-723): its weights stay at their initial values, as there.
- learning rate: SGDR per epoch, ``T_0`` 10 and ``T_mul`` 2 (utils.py L154-183).
- controller: ``train_steps`` updates of ``num_aggregate`` children after every epoch
  (main.py L276-281), baseline from 0 moved per child (micro_controller.py L241-243), no
  gradient clipping; the reward is a child's accuracy on one minibatch of the held-out
  images with the shared weights (L232-235).
- derivation: the best of ``derive_samples`` children, each on one minibatch (main.py L308-327
  prints 10 per epoch; Sect. 2.2 keeps the highest reward).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from common.controllers.micro_policy import MICRO_OPS, split_arc
from common.controllers.reinforce import controller_adam
from common.spaces.darts.genotype import Genotype
from reproductions.enas.search_module import Batch, EnasSearchModule, cycle

PARAMETER_FREE = ("avg_pool_3x3", "max_pool_3x3", "skip_connect")


def sgdr_lr(epoch: int, lr_max: float, lr_min: float, t0: int, t_mul: int) -> float:
    """utils.py L162-183: cosine from ``lr_max`` to ``lr_min`` over ``T_i`` epochs, restarted
    with ``T_i *= T_mul`` (restarts at 10, 30, 70, 150, 310, 630 for 10 and 2)."""
    start, t = 0, t0
    while epoch - start >= t:
        start, t = start + t, t * t_mul
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * (epoch - start) / t))


def arc_genotype(row: torch.Tensor | list[int], num_cells: int = 5) -> Genotype:
    """An ENAS micro arc as a DARTS-space genotype: node ``i``'s entries are its ``x`` and ``y``
    (op, input); each cell outputs its unused states, the inputs included if unused."""
    arcs = split_arc(row, num_cells)
    cells, concats = {}, {}
    for kind, arc in arcs.items():
        cells[kind] = [
            (MICRO_OPS[o], i)
            for x_id, x_op, y_id, y_op in arc
            for o, i in ((x_op, x_id), (y_op, y_id))
        ]
        used = {i for node in arc for i in (node[0], node[2])}
        concats[kind] = [i for i in range(num_cells + 2) if i not in used]
    return Genotype(cells["normal"], concats["normal"], cells["reduce"], concats["reduce"])


class MicroSearchModule(EnasSearchModule):
    def __init__(
        self,
        *args: Any,
        w_lr_t0: int = 10,
        w_lr_t_mul: int = 2,
        aux_weight: float = 0.4,
        **kwargs: Any,
    ) -> None:
        self._micro = {"w_lr_t0": w_lr_t0, "w_lr_t_mul": w_lr_t_mul, "aux_weight": aux_weight}
        super().__init__(*args, **kwargs)
        self.hparams.update(self._micro)

    def on_train_end(self) -> None:
        arch, acc, candidates = self.best_of(
            self.hparams.derive_samples, cycle(self.reward_batches)
        )
        self.final = {"arch": arch, "minibatch_acc": acc, "candidates": candidates}
        self.net.train()

    def on_train_epoch_start(self) -> None:
        self._epoch_start = time.perf_counter()
        hp = self.hparams
        lr = sgdr_lr(self.current_epoch, hp.w_lr, hp.w_lr_min, hp.w_lr_t0, hp.w_lr_t_mul)
        for group in self.optimizers()[0].optimizer.param_groups:
            group["lr"] = lr
        self.log("search/w_lr", lr, on_step=False, on_epoch=True)

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        x, y = batch
        w_opt = self.optimizers()[0].optimizer
        self.set_child(self.draw(1)[0])
        logits, aux = self.net.forward_with_aux(x)
        loss = F.cross_entropy(logits, y)
        total = loss if aux is None else loss + self.hparams.aux_weight * F.cross_entropy(aux, y)
        w_opt.zero_grad()
        self.manual_backward(total)
        if self.hparams.grad_clip:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.hparams.grad_clip)
        w_opt.step()
        acc = (logits.argmax(1) == y).float().mean() * 100
        self.log("search/train_loss", loss.detach(), on_step=False, on_epoch=True)
        self.log("search/train_acc", acc, on_step=False, on_epoch=True)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        hp = self.hparams
        aux = {id(p) for p in self.net.aux_head.parameters()} if self.net.aux_head else set()
        trained = [p for p in self.net.parameters() if id(p) not in aux]
        w_opt = torch.optim.SGD(
            trained,
            lr=hp.w_lr,
            momentum=hp.w_momentum,
            nesterov=hp.w_nesterov,
            weight_decay=hp.w_weight_decay,
        )
        return [w_opt, controller_adam(self.controller, hp.ctl_lr, hp.ctl_betas, hp.ctl_eps)]

    def set_child(self, row: torch.Tensor | list[int]) -> list[int]:
        row = [int(v) for v in row]
        self.net.set_arc(split_arc(row, self.net.num_cells))
        return row

    @torch.no_grad()
    def best_of(self, n: int, rewards: Iterator[Batch]) -> tuple[Any, float, list]:
        was_training = self.net.training
        self.net.eval()
        scored = [(row, self.child_accuracy(row, next(rewards))) for row in self.draw(n).tolist()]
        self.net.train(was_training)
        if not scored:
            return None, math.nan, []
        best = max(range(len(scored)), key=lambda i: (scored[i][1], -i))
        found = [self.decode(r) for r, _ in scored]
        return found[best], scored[best][1], [(str(f), s) for f, (_, s) in zip(found, scored)]

    def decode(self, row: list[int]) -> Any:
        """A sampled row as the architecture it names (here a DARTS-space genotype)."""
        return arc_genotype(row, self.net.num_cells)

    @staticmethod
    def param_free_edges(arch: Any) -> int:
        """How many of the found architecture's edges (both cells) are parameter-free."""
        return sum(op in PARAMETER_FREE for op, _ in (*arch.normal, *arch.reduce))

    @torch.no_grad()
    def policy_profile(self, n: int) -> dict[str, Any]:
        """Share of each op (over both cells' op decisions) in ``n`` draws; mean entropy."""
        drawn = self.controller.sample(n)
        ops = drawn.decisions[:, 1::2]  # x_op, y_op columns
        counts = Counter(ops.flatten().tolist())
        shares = {op: counts.get(i, 0) / ops.numel() for i, op in enumerate(MICRO_OPS)}
        return {
            "param_free_share": sum(shares[op] for op in PARAMETER_FREE),
            "op_shares": shares,
            "policy_entropy": float(drawn.entropy.mean()),
        }
