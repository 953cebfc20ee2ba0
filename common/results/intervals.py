"""Percentile bootstrap intervals for the mean and the std of pooled per-run results.

The leaderboard compares a reproduced mean with a published one through the published band.
This module answers the sharper questions a pooled set of runs can answer: does the interval
of our mean hold the published mean, and does the interval of our std hold the published std?
The runs are resampled with replacement; each run is one independent search (its own seed),
so the runs, not the records, are the unit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def bootstrap_interval(
    values: Sequence[float],
    statistic: Callable[[np.ndarray], np.ndarray],
    num_boot: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """(low, high) percentile interval of ``statistic`` over ``num_boot`` resamples.

    ``statistic`` maps a (num_boot, n) array to num_boot values (for example
    ``lambda a: a.mean(axis=1)``).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size < 2 or not np.isfinite(v).all():
        raise ValueError(f"need at least 2 finite values in a flat list, got shape {v.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    boot = statistic(v[rng.integers(0, v.size, (num_boot, v.size))])
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    return float(lo), float(hi)


def mean_std_intervals(values: Sequence[float], **kw) -> dict:
    """Mean, population std (as the leaderboard reports them) and their bootstrap intervals."""
    v = np.asarray(values, dtype=np.float64)
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "mean_ci": bootstrap_interval(v, lambda a: a.mean(axis=1), **kw),
        "std": float(v.std()),
        "std_ci": bootstrap_interval(v, lambda a: a.std(axis=1), **kw),
    }
