"""NASWOT with reused scores: the reduced protocol behind the ``*_reuse_reduced`` experiments.

In the paper's protocol (``search.py``, Algorithm 1) every run draws its own batch and
builds its networks from its own RNG state, so two runs never share a (cell, batch, init)
and a score can only be reused within a run (a cell sampled twice; ``naswot_run`` does).
Scoring 500 runs x N in {10, 100, 1000} cells costs 555,000 scorings: days of a CPU.

Here the runs share a fixed pool of K (batch, init) entries instead: entry k is the batch and
weight-init seed that a paper-protocol run with run seed ``run_seed(seed, k)`` uses
(``draw_run``; ``weights="shared"``), so its scores are the ones such a run gives. A run
draws one entry uniformly and N cells uniformly with replacement from a fixed random subset
of M cells (all 15,625 when M is null), and keeps the best. Each (cell, entry) is scored at
most once, through a ``ScoreCache`` file the three experiments (N = 10, 100, 1000) share, so
the whole table costs at most M x K scorings, and the experiments run after the first cost
almost nothing.

What it changes against the paper: runs share batches (K of them rather than 500), and with
M < 15,625 they sample from the same subset, so the runs are not independent searches and
the spread over runs is narrower than the paper's (at N = 1000 a run sees a good part of the
subset). The means estimate the paper's rows on that subset; a record names K and M.
"""

from __future__ import annotations

import numpy as np
import torch

from common.data.pool import ImagePool
from common.protocols.repeated import run_seed
from common.scores.cache import ScoreCache
from common.spaces.nb201.arch import NUM_ARCHS
from reproductions.naswot.search import (
    NaswotSettings,
    _layout,
    best_index,
    cells,
    draw_run,
    score_cell,
)


def cell_subset(seed: int, num_cells: int | None) -> np.ndarray:
    """The fixed subset of arch codes the runs sample from (sorted; all when None)."""
    if num_cells is None or num_cells >= NUM_ARCHS:
        return np.arange(NUM_ARCHS)
    rng = np.random.default_rng([seed, NUM_ARCHS])
    return np.sort(rng.choice(NUM_ARCHS, size=num_cells, replace=False))


class ScorePool:
    """K (batch, init) entries and the cache their scores go through."""

    def __init__(
        self,
        pool: ImagePool,
        settings: NaswotSettings,
        seed: int,
        num_batches: int,
        cache: ScoreCache,
        device: torch.device | str = "cpu",
    ) -> None:
        if settings.weights != "shared":
            raise ValueError("score reuse needs weights='shared' (a score per cell and entry)")
        self.settings, self.cache, self.device = settings, cache, device
        self.seeds = [run_seed(seed, k) for k in range(num_batches)]
        self.batches = [
            draw_run(pool, settings, s, device)[0].contiguous(
                memory_format=_layout(settings, device)
            )
            for s in self.seeds
        ]

    def score(self, code: int, k: int) -> float:
        s = self.seeds[k]
        arch = cells()[code]
        return self.cache.get_or_compute(
            str(arch),
            f"run_seed={s} (batch and init)",
            lambda: score_cell(self.settings, arch, self.batches[k], s, self.device),
        )


def reuse_run(scores: ScorePool, subset: np.ndarray, num_samples: int, seed: int) -> dict:
    """One search of the reduced protocol: an entry, N cells of the subset, the best."""
    rng = np.random.default_rng([seed, 1])  # a stream of its own, apart from draw_run's
    k = int(rng.integers(len(scores.seeds)))
    codes = subset[rng.integers(0, len(subset), num_samples)]
    values = [scores.score(int(c), k) for c in codes]
    best = best_index(values)
    return {
        "arch": cells()[codes[best]],
        "top_score": float(values[best]),
        "entry": k,
        "sampled_codes": codes.tolist(),
        "scores": values,
    }
