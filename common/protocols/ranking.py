"""Ranking quality of a weight-sharing supernet: how well its scores order architectures whose
true accuracy is known (a benchmark table), and how that evolves while it trains.

The measure the one-shot papers compare supernets by: Kendall's tau between the supernet's
scores and the ground truth (FairNAS Fig. 1; Yu et al., ICLR 2020; the few-shot NAS release),
Spearman's rho, and the precision among the top fraction (P@top 5 %: of the true top k, how
many the supernet also puts in its top k; Ning et al., NeurIPS 2021). The architectures are all
of the space or a seeded uniform sample of distinct ones, and every statistic carries a
percentile-bootstrap interval over those architectures (the sample is the unit; a new sample
would move the number by about that much).

- ``ranking_report``: the three statistics and their intervals from scores and ground truth.
- ``ranking_sample``: all paths of a space, or a seeded sample of distinct ones.
- ``RankingCurve``: a Lightning callback that scores the sample with inherited weights every
  ``every`` epochs and after the last, so a run records the curve over supernet epochs
  (Ning et al. find P@5 % converging long before tau does). It restores the supernet's mode
  and path after measuring, and draws nothing from the training RNGs.
"""

from __future__ import annotations

import functools
import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path as FilePath
from typing import Any

import lightning as L
import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from scipy import stats
from torch import nn

from common.data.base import ArrayDataset
from common.data.transforms import eval_transform
from common.errors import NasReproError
from common.evaluators.inherited import InheritedWeightsEvaluator
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.training.fit import fit
from common.training.single_path import Path, PathSpace, SinglePathSupernetModule


def kendall_tau(scores: Sequence[float], truth: Sequence[float]) -> float:
    """Kendall's tau-b (scipy's default: ties in either ranking counted as such)."""
    return float(stats.kendalltau(scores, truth).statistic)


def spearman(scores: Sequence[float], truth: Sequence[float]) -> float:
    return float(stats.spearmanr(scores, truth).statistic)


def precision_at_top(
    scores: Sequence[float], truth: Sequence[float], fraction: float = 0.05
) -> float:
    """|top-k by score and top-k by truth| / k with k = ceil(fraction * n); ties are broken by
    position (a stable sort), so equal scores count in list order."""
    s, t = np.asarray(scores, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    k = max(1, math.ceil(fraction * len(s)))
    top_s = set(np.argsort(-s, kind="stable")[:k].tolist())
    top_t = set(np.argsort(-t, kind="stable")[:k].tolist())
    return len(top_s & top_t) / k


def ranking_report(
    scores: Sequence[float],
    truth: Sequence[float],
    top_fraction: float = 0.05,
    num_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Kendall tau, Spearman and P@top with percentile-bootstrap intervals over the
    architectures (resampled with replacement, pairs kept; a resample whose statistic is
    undefined, e.g. all scores tied, is left out of the quantiles)."""
    s, t = np.asarray(scores, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if s.shape != t.shape or s.ndim != 1 or len(s) < 3:
        raise ValueError(f"need >= 3 paired scores and truths, got {s.shape} and {t.shape}")
    metrics: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
        "kendall_tau": kendall_tau,
        "spearman": spearman,
        "p_at_top": lambda a, b: precision_at_top(a, b, top_fraction),
    }
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(s), (num_boot, len(s)))
    alpha = (1 - level) / 2
    out: dict[str, Any] = {"n": len(s), "top_fraction": top_fraction, "level": level}
    for name, fn in metrics.items():
        out[name] = fn(s, t)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            boot = np.array([fn(s[row], t[row]) for row in idx])
        boot = boot[np.isfinite(boot)]
        lo, hi = np.quantile(boot, [alpha, 1 - alpha]) if boot.size else (math.nan, math.nan)
        out[f"{name}_ci"] = [float(lo), float(hi)]
    return out


def ranking_sample(space: PathSpace, num: int | None, seed: int) -> list[Path]:
    """Every path of ``space`` (``num`` None or at least its size), else ``num`` distinct
    paths drawn uniformly with ``random.Random(seed)``, in drawing order."""
    if num is None or num >= space.size:
        return list(space.all_paths())
    rng, seen = random.Random(seed), {}
    while len(seen) < num:
        seen.setdefault(space.random_path(rng), None)
    return list(seen)


class RankingCurve(L.Callback):
    """Scores ``archs`` with ``evaluate`` (inherited weights) every ``every`` epochs and at the
    end of training, against ``truth``; ``history`` holds one ``ranking_report`` per point with
    the epoch and the compute spent so far (``path_steps``: single-path forward-backward
    passes, so SPOS and FairNAS curves compare at equal compute)."""

    def __init__(
        self,
        evaluate: Callable[[Any], float],
        archs: Sequence[Any],
        truth: Sequence[float],
        every: int,
        report: dict[str, Any],
        log: Callable[[dict[str, float], int], None] | None = None,
    ) -> None:
        if every < 1:
            raise ValueError(f"ranking.every must be >= 1, got {every}")
        self.evaluate, self.archs, self.truth = evaluate, list(archs), list(truth)
        self.every, self.report, self.log_fn = every, report, log
        self.history: list[dict[str, Any]] = []
        self.last_scores: list[float] = []

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if (trainer.current_epoch + 1) % self.every == 0:
            self.measure(module, trainer.current_epoch + 1)

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        # after the last epoch, or after a run cut short (max_steps, max_time) mid-epoch
        done = getattr(module, "path_steps", None)
        if not self.history or self.history[-1]["path_steps"] != done:
            self.measure(module, len(getattr(module, "history", [])))

    def measure(self, module: L.LightningModule, epochs_done: int) -> dict[str, Any]:
        mixer, was_training = module.net.mixer, module.training
        choice = mixer.choice()
        start = time.perf_counter()
        try:
            scores = [float(self.evaluate(arch)) for arch in self.archs]
        finally:
            mixer.set_choice(choice)
            module.train(was_training)
        entry = {
            "epochs": epochs_done,
            "path_steps": getattr(module, "path_steps", None),
            **ranking_report(scores, self.truth, **self.report),
            "mean_score": float(np.mean(scores)),
            "wall_s": time.perf_counter() - start,
        }
        self.history.append(entry)
        self.last_scores = scores
        if self.log_fn is not None:
            keys = ("kendall_tau", "spearman", "p_at_top")
            self.log_fn({f"ranking/{k}": entry[k] for k in keys}, epochs_done)
        return entry


# The one-shot stage: train a single-path supernet, record its ranking curve, search it ----------


class _TrainHalf(L.LightningDataModule):
    """Only the weights' half of a search split (the other half scores architectures)."""

    def __init__(self, data: L.LightningDataModule) -> None:
        super().__init__()
        self.data = data

    def train_dataloader(self):
        return self.data.train_dataloader()


class _OnDevice:
    """Fixed batches, moved to the supernet's current device whenever they are iterated."""

    def __init__(self, batches: list[tuple[torch.Tensor, torch.Tensor]], net: nn.Module) -> None:
        self.batches, self.net = batches, net

    def __iter__(self):
        device = next(self.net.parameters()).device
        return ((x.to(device), y.to(device)) for x, y in self.batches)


def fixed_batches(dataset: Any, num: int, batch_size: int, seed: int) -> list[tuple[Any, Any]]:
    """``num`` batches of a seeded random subset of ``dataset``, drawn (and augmented, if its
    transform augments) once: every architecture is scored on the same images."""
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    items = [dataset[int(i)] for i in order[: num * batch_size]]
    return [
        (
            torch.stack([x for x, _ in items[k : k + batch_size]]),
            torch.tensor([y for _, y in items[k : k + batch_size]]),
        )
        for k in range(0, len(items), batch_size)
    ]


def _anchor(spec: Any, archs: list[Any], truth: list[float], report: dict) -> dict | None:
    """The ranking of released supernet scores (``spec.path``, column ``spec.column`` keyed by
    ``str(arch)`` in ``spec.key``) on the same architectures and ground truth."""
    if not spec:
        return None
    import pandas as pd

    path = FilePath(str(spec.path)).expanduser()
    if not path.is_file():
        return {"name": spec.name, "missing": str(path)}
    table = pd.read_csv(path)
    score = dict(zip(table[spec.key].astype(str), table[spec.column].astype(float), strict=True))
    mine = [score.get(str(a), math.nan) for a in archs]
    if any(math.isnan(v) for v in mine):
        return {"name": spec.name, "missing": "architectures absent from the file"}
    return {
        "name": spec.name,
        "path": str(path),
        "column": spec.column,
        **ranking_report(mine, truth, **report),
    }


def one_shot_search(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """SPOS / FairNAS end to end on a benchmark space: train the supernet (``cfg.supernet``:
    network, sampler, optimiser) on one half of the search split, scoring ``cfg.ranking``'s
    architectures every few epochs; search (``cfg.search``) with inherited weights after
    batch-norm recalibration (``cfg.evaluation``, on the other half); report the found
    architecture's table accuracies (``report_columns``). Supernet accuracies and search scores
    are diagnostics; the ranking statistics of the trained supernet are final metrics."""
    run_epochs = cfg.supernet.get("run_epochs") or cfg.supernet.epochs
    if cfg.record.canonical and run_epochs != cfg.supernet.epochs:
        raise NasReproError(
            "record.canonical=true needs the full schedule: drop supernet.run_epochs"
        )
    data = instantiate(cfg.data)
    if data.split != "search":
        raise NasReproError(f"a one-shot search needs data.split=search, got {data.split!r}")
    data.setup("fit")
    bench = instantiate(cfg.benchmark)
    net = instantiate(
        cfg.supernet.network, num_classes=data.num_classes, in_channels=data.in_channels
    )
    column = cfg.space.get("cost_column")
    space = PathSpace.of(
        net.mixer,
        instantiate(cfg.space.to_arch),
        instantiate(cfg.space.from_arch),
        functools.partial(bench.value, column=column) if column else None,
    )
    sampler = instantiate(cfg.supernet.sampler, _partial_=True)(space)
    optim = OmegaConf.to_container(cfg.supernet.optim, resolve=True)
    module = SinglePathSupernetModule(net, sampler, cfg.supernet.epochs, seed=cfg.seed, **optim)

    ev = cfg.evaluation
    val_set = data.val_set
    val_eval = ArrayDataset(
        val_set.images,
        val_set.labels,
        val_set.indices,
        eval_transform(data.mean, data.std),
        val_set.max_value,
    )
    bn = _OnDevice(fixed_batches(data.train_set, ev.bn_batches, ev.batch_size, cfg.seed), net)
    val = _OnDevice(fixed_batches(val_eval, ev.val_batches, ev.batch_size, cfg.seed + 1), net)

    rk = cfg.ranking
    report = {"top_fraction": rk.top_fraction, "num_boot": rk.num_boot, "seed": rk.seed}
    archs = [space.to_arch(p) for p in ranking_sample(space, rk.num_archs, rk.seed)]
    truth = [bench.value(a, rk.truth) for a in archs]
    ranker = InheritedWeightsEvaluator(net, space.mask, bn, val)
    curve = RankingCurve(
        lambda a: ranker.evaluate(a).score, archs, truth, rk.every, report, logger.log
    )

    start = time.perf_counter()
    fit(module, _TrainHalf(data), cfg.trainer, run_epochs, logger, callbacks=[curve])
    fit_s = time.perf_counter() - start
    if torch.cuda.is_available() and cfg.trainer.accelerator in ("auto", "gpu", "cuda"):
        net.cuda()
    searcher = InheritedWeightsEvaluator(net, space.mask, bn, val)
    search = instantiate(cfg.search)
    result = search(
        score=lambda p: searcher.evaluate(space.to_arch(p)).score,
        space=space,
        rng=random.Random(cfg.seed),
    )
    found = space.to_arch(result.best)

    final = curve.history[-1]
    metrics = {c: [bench.value(found, c)] for c in cfg.report_columns}
    metrics.update({f"ranking_{k}": [final[k]] for k in ("kendall_tau", "spearman", "p_at_top")})
    extra = dict(result.extra)
    if "final_front" in extra:
        extra["final_front"] = [
            {**d, "path": list(d["path"]), "truth": bench.value(space.to_arch(d["path"]), rk.truth)}
            for d in extra["final_front"]
        ]
    ranking_s = sum(h["wall_s"] for h in curve.history)
    truth_of = cfg.get("truth_source") or "200 epochs"  # what the table's accuracies are
    return RunResult(
        metrics=metrics,
        data_variant=f"{data.data_variant}; accuracies from {cfg.benchmark.variant} ({truth_of})",
        protocol={
            "found": str(found),
            "sampler": OmegaConf.to_container(cfg.supernet.sampler, resolve=True),
            "supernet": {
                k: OmegaConf.to_container(cfg.supernet[k], resolve=True)
                for k in ("network", "optim")
            },
            "search": OmegaConf.to_container(cfg.search, resolve=True),
            "evaluation": OmegaConf.to_container(ev, resolve=True),
            "ranking": {**OmegaConf.to_container(rk, resolve=True), "n_archs": len(archs)},
            "data": data.record(),
            "final_metric_source": (
                f"{cfg.benchmark.variant} table ({truth_of}); ranking_* against {rk.truth}"
            ),
        },
        diagnostics={
            "found_supernet_score": result.evaluated[result.best],
            "ranking_curve": curve.history,
            "ranking_anchor": _anchor(rk.get("anchor"), archs, truth, report),
            "supernet_epochs": module.history,
            "choice_counts": module.counts_table(),
            "search_history": result.history,
            "search_extra": extra,
        },
        cost={
            "supernet_epochs_run": len(module.history),
            "supernet_epochs_schedule": cfg.supernet.epochs,
            "path_steps": module.path_steps,
            "updates": module.updates,
            "supernet_train_s": fit_s - ranking_s,
            "ranking_s": ranking_s,  # measuring the supernet, not part of the method's cost
            "search_s": searcher.spent_s,
            "search_cost_s": fit_s - ranking_s + searcher.spent_s,  # supernet + search
            "search_evaluations": result.num_evaluations,
            "epoch_wall_s": [h["epoch_wall_s"] for h in module.history],
        },
    )
