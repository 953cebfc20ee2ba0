"""Single-path supernet training, shared by SPOS (Guo et al., ECCV 2020; official code
megvii-model/SinglePathOneShot @36eed6c) and FairNAS (Chu, Zhang, Xu, ICCV 2021, Fig. 2;
xiaomi-automl/FairNAS @fa0d393), and by any later method whose supernet computes one op per
edge or layer (ENAS, RSPS).

- ``PathSpace``: a supernet's ``SinglePathMixer`` positions (cell type, edge) and choices, and
  the mapping between a *path* (one op name per position, a flat tuple) and the search space's
  architecture (``to_arch`` / ``from_arch``, e.g. ``Nb201Arch`` and its ``ops``), plus an
  optional cost of an architecture (a table's FLOPs or parameters). Searches, samplers and the
  ranking protocol see paths and architectures only, never a particular supernet.
- ``PathSampler``: what paths one training step trains. ``UniformSampler`` draws one path,
  each position uniform and independent (SPOS); a paper's own sampler (SPOS's FLOPs bins,
  FairNAS's strict fairness) lives in its folder.
- ``SinglePathSupernetModule``: each step draws the sampler's paths, back-propagates each on
  the same batch (their gradients add up) and makes ONE optimiser step: for one path that is
  SPOS's step, for FairNAS's m paths its strict-fairness step. Parameters off every sampled
  path get no gradient and no update at all (no weight decay, no momentum), as the SPOS code
  makes sure by setting zero gradients to ``None`` (``src/Supernet/train.py``). It counts how
  often each choice of each position was trained (``choice_counts``), so FairNAS's fairness is
  checkable: all counts of a position equal after every step. The supernet's own accuracy is
  logged as a diagnostic only.

Speed options (``common.speed.Speed``): the supernet's parameters and each batch in the
memory layout chosen, bf16 autocast around each path's forward (the loss in float32). A
compiled whole network would be recompiled for every new path (its graph is the path), so
``compile`` compiles each candidate op on its own instead (``compile_ops``): one graph per op,
reused by every path that takes it.

Schedules: ``cosine`` from ``lr`` to ``lr_min`` (NB-201's weight-sharing baselines,
AutoDL-Projects ``configs/nas-benchmark/algos/RANDOM.config``) or ``linear`` from ``lr`` to 0
(SPOS ``src/Supernet/train.py``: ``LambdaLR(1 - step / total_iters)``), per step or per epoch.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

from common.speed import Speed
from common.supernets.mixers import CellMask, SinglePathMixer
from common.training.classifier import check_compile

Path = tuple[str, ...]  # one op name per position of a PathSpace
SCHEDULES = ("cosine", "linear")


@dataclass(frozen=True)
class PathSpace:
    """Paths through a single-path supernet and the architectures they are.

    ``positions`` are the mixer's (cell type, edge) pairs in order; every position offers
    the same ``choices``. ``cost`` maps an architecture to a number (FLOPs, parameters) for
    constrained sampling and searches; ``None`` where the space has none.
    """

    positions: tuple[tuple[str, int], ...]
    choices: tuple[str, ...]
    to_arch: Callable[[Path], Any]
    from_arch: Callable[[Any], Sequence[str]]
    cost: Callable[[Any], float] | None = None

    @classmethod
    def of(
        cls,
        mixer: SinglePathMixer,
        to_arch: Callable[[Path], Any],
        from_arch: Callable[[Any], Sequence[str]],
        cost: Callable[[Any], float] | None = None,
    ) -> PathSpace:
        positions = tuple((t, e) for t in mixer.cell_types for e in range(mixer.num_edges))
        return cls(positions, tuple(mixer.choices), to_arch, from_arch, cost)

    @property
    def size(self) -> int:
        return len(self.choices) ** len(self.positions)

    def check(self, path: Sequence[str]) -> Path:
        path = tuple(path)
        if len(path) != len(self.positions) or not set(path) <= set(self.choices):
            raise ValueError(
                f"a path has {len(self.positions)} ops among {self.choices}, got {path}"
            )
        return path

    def path(self, arch: Any) -> Path:
        return self.check(self.from_arch(arch))

    def choice(self, path: Path) -> dict[str, tuple[str, ...]]:
        """``path`` in the form ``SinglePathMixer.set_choice`` takes."""
        out: dict[str, list[str]] = {}
        for (cell_type, _), op in zip(self.positions, self.check(path), strict=True):
            out.setdefault(cell_type, []).append(op)
        return {t: tuple(ops) for t, ops in out.items()}

    def mask(self, arch: Any) -> dict[str, CellMask]:
        """The mixer mask of ``arch`` (for ``InheritedWeightsEvaluator``'s ``to_mask``)."""
        return {
            t: tuple(frozenset({op}) for op in ops)
            for t, ops in self.choice(self.path(arch)).items()
        }

    def random_path(self, rng: random.Random) -> Path:
        return tuple(rng.choice(self.choices) for _ in self.positions)

    def all_paths(self) -> Iterator[Path]:
        return itertools.product(self.choices, repeat=len(self.positions))

    def path_cost(self, path: Path) -> float:
        if self.cost is None:
            raise ValueError("this search space has no cost function (space.cost_column)")
        return float(self.cost(self.to_arch(path)))


def ops_of(arch: Any) -> tuple[str, ...]:
    """An architecture's path when it lists its ops as ``.ops`` (``Nb201Arch``)."""
    return tuple(arch.ops)


class PathSampler:
    """The paths one training step trains, on one batch, with one update."""

    def __init__(self, space: PathSpace) -> None:
        self.space = space

    def sample(self, rng: random.Random) -> list[Path]:
        raise NotImplementedError


class UniformSampler(PathSampler):
    """SPOS's uniform sampling (``src/Supernet/train.py`` ``get_random_cand``): one path, each
    position's choice uniform and independent."""

    def sample(self, rng: random.Random) -> list[Path]:
        return [self.space.random_path(rng)]


class SinglePathSupernetModule(L.LightningModule):
    """Trains the shared weights of ``net`` (a supernet whose ``.mixer`` is a
    ``SinglePathMixer``) with the paths ``sampler`` draws; see the module docstring."""

    def __init__(
        self,
        net: nn.Module,
        sampler: PathSampler,
        epochs: int,
        lr: float = 0.025,
        lr_min: float = 0.0,
        schedule: str = "cosine",
        lr_per_step: bool = True,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        decay_all: bool = True,
        grad_clip: float | None = None,
        label_smoothing: float = 0.0,
        seed: int = 0,
        speed: Speed | None = None,  # layout, compile (per op), precision; default: none
    ) -> None:
        super().__init__()
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        self.save_hyperparameters(ignore=["net", "sampler", "speed"])
        self.automatic_optimization = False
        self.speed = speed or Speed()
        self.net = self.speed.module(net)
        if self.speed.compile:
            check_compile(self.speed)
            compile_ops(net, net.mixer.ops)
        self.sampler = sampler
        self.space = sampler.space
        self.rng = random.Random(seed)
        self._index = {op: k for k, op in enumerate(self.space.choices)}
        shape = (len(self.space.positions), len(self.space.choices))
        self.register_buffer("choice_counts", torch.zeros(shape, dtype=torch.long))
        self.path_steps = 0  # forward-backward passes of one path (the compute spent)
        self.updates = 0  # optimiser steps
        self.last_paths: list[Path] = []
        self.history: list[dict[str, Any]] = []
        self._epoch: dict[str, Any] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with self.speed.autocast(x.device.type):
            return self._float(self.net(self.speed.tensor(x)))

    def _float(self, logits: torch.Tensor) -> torch.Tensor:
        """bf16 autocast's logits in float32 for the loss; others as they are."""
        return logits if self.speed.precision == "fp32" else logits.float()

    def on_train_epoch_start(self) -> None:
        self._epoch = {
            "start": time.perf_counter(),
            "loss": 0.0,
            "correct": 0,
            "seen": 0,
            "counts": self.choice_counts.clone(),
        }

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        x = self.speed.tensor(x)
        opt = self.optimizers()
        lr = self._set_lr(opt, batch_idx)
        paths = self.sampler.sample(self.rng)
        opt.zero_grad(set_to_none=True)  # off-path parameters keep grad None: no update
        for path in paths:
            self.net.mixer.set_choice(self.space.choice(path))
            with self.speed.autocast(x.device.type):
                logits = self._float(self.net(x))
            loss = F.cross_entropy(logits, y, label_smoothing=self.hparams.label_smoothing)
            self.manual_backward(loss)  # gradients of the paths add up
            self._count(path)
            self._epoch["loss"] += float(loss.detach()) * len(y)
            self._epoch["correct"] += int((logits.detach().argmax(1) == y).sum())
            self._epoch["seen"] += len(y)
        if self.hparams.grad_clip:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.hparams.grad_clip)
        opt.step()
        self.updates += 1
        self.last_paths = paths
        self._epoch["end"] = time.perf_counter()
        self.log("supernet/lr", lr, on_step=False, on_epoch=True)

    def on_train_epoch_end(self) -> None:
        e = self._epoch
        counts = self.choice_counts - e["counts"]
        entry = {
            "epoch": self.current_epoch,
            "path_steps": self.path_steps,
            "updates": self.updates,
            # supernet accuracy on its own training batches: a diagnostic, never a result
            "supernet_train_acc": 100.0 * e["correct"] / max(e["seen"], 1),
            "supernet_train_loss": e["loss"] / max(e["seen"], 1),
            "choice_spread_epoch": _spread(counts),
            "choice_spread_total": _spread(self.choice_counts),
            "choice_counts_epoch": counts.tolist(),  # positions x choices, this epoch
            # to the end of the last step: a callback measuring after it is not counted
            "epoch_wall_s": e.get("end", e["start"]) - e["start"],
        }
        self.history.append(entry)
        for key in ("supernet_train_acc", "choice_spread_epoch", "epoch_wall_s"):
            self.log(f"supernet/{key}", float(entry[key]))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        hp = self.hparams
        if hp.decay_all:
            groups: list[dict] = [{"params": list(self.net.parameters())}]
        else:  # SPOS utils.get_parameters: decay only on conv/linear weights
            decay = [p for n, p in self.net.named_parameters() if "weight" in n and p.dim() > 1]
            ids = {id(p) for p in decay}
            rest = [p for p in self.net.parameters() if id(p) not in ids]
            groups = [{"params": decay}, {"params": rest, "weight_decay": 0.0}]
        return torch.optim.SGD(
            groups,
            lr=hp.lr,
            momentum=hp.momentum,
            nesterov=hp.nesterov,
            weight_decay=hp.weight_decay,
        )

    def counts_table(self) -> dict[str, dict[str, int]]:
        """Sampled-choice counts as ``{"<cell type>/<edge>": {op: count}}``."""
        return {
            f"{t}/{e}": dict(zip(self.space.choices, row.tolist(), strict=True))
            for (t, e), row in zip(self.space.positions, self.choice_counts, strict=True)
        }

    def _count(self, path: Path) -> None:
        idx = torch.tensor([self._index[op] for op in path], device=self.choice_counts.device)
        self.choice_counts[torch.arange(len(path), device=idx.device), idx] += 1
        self.path_steps += 1

    def _set_lr(self, opt: Any, batch_idx: int) -> float:
        hp = self.hparams
        t = float(self.current_epoch)
        if hp.lr_per_step:
            t += batch_idx / max(_num_batches(self.trainer), 1)
        frac = min(t / hp.epochs, 1.0)
        if hp.schedule == "cosine":
            lr = hp.lr_min + 0.5 * (hp.lr - hp.lr_min) * (1 + math.cos(math.pi * frac))
        else:
            lr = hp.lr * (1.0 - frac)
        for group in opt.param_groups:
            group["lr"] = lr
        return lr


def compile_ops(net: nn.Module, ops: Collection[str]) -> int:
    """Compile, in place, every candidate op of ``net``: the members of each ``ModuleDict``
    keyed by op names among ``ops`` (how every supernet here holds an edge's ops; a mixer's
    ``.ops``). The skeleton around them stays eager. Returns the number of ops compiled."""
    names, n = set(ops), 0
    for module in net.modules():
        if isinstance(module, nn.ModuleDict) and module and set(module.keys()) <= names:
            for op in module.values():
                op.compile()
                n += 1
    return n


def _spread(counts: torch.Tensor) -> int:
    """The largest difference between two choices' counts at one position (0: fair)."""
    return int((counts.max(dim=1).values - counts.min(dim=1).values).max())


def _num_batches(trainer: L.Trainer) -> int:
    n = trainer.num_training_batches
    return int(n) if math.isfinite(n) else 1
