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

import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
import numpy as np
from scipy import stats

from common.training.single_path import Path, PathSpace


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
