"""Stage functions of the NASWOT experiments: ``num_runs`` NASWOT searches on NB-201 with N
sampled cells each; the found cells' 200-epoch benchmark accuracies are the final metrics
(Mellor et al., ICML 2021, Table 2a; 500 runs there).

``run``: the paper's protocol (every run its own batch; ``search.py``). ``run_reuse``: the
reduced protocol of ``reuse.py`` (runs draw from a pool of K batches and a subset of cells;
each (cell, batch) scored once, shared through ``search.cache_file``).

Scores go through a ``ScoreCache`` file: ``search.cache_file``, or ``scores.jsonl`` in the run
folder when it is null. The repeats, seeds, runs.csv and shared record fields are
``common.protocols.repeated``'s; NASWOT's own diagnostic is the Kendall tau of score against
accuracy over all scored cells.
"""

from __future__ import annotations

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from scipy import stats

from common.data.pool import training_pool
from common.protocols.nb201_query import FINAL_METRIC_SOURCE, table_metrics
from common.protocols.repeated import Found, repeated_search
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.scores.cache import ScoreCache
from common.scores.device import resolve_device
from reproductions.naswot.reuse import ScorePool, cell_subset, reuse_run
from reproductions.naswot.search import NaswotSettings, cells, naswot_run, score_key


def _cache(cfg: DictConfig, logger: RunLogger, settings: NaswotSettings, pool) -> ScoreCache:
    path = cfg.search.get("cache_file") or logger.run_dir / "scores.jsonl"
    return ScoreCache(score_key(settings, pool.data_variant), path)


def _setup(cfg: DictConfig):
    """What both protocols start from: the table, the image pool, the device, the settings."""
    bench = instantiate(cfg.benchmark)
    pool = training_pool(cfg.data)
    device = resolve_device(cfg.device)
    settings = NaswotSettings(**OmegaConf.to_container(cfg.search.settings, resolve=True))
    return bench, pool, device, settings


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    bench, pool, device, settings = _setup(cfg)
    cache = _cache(cfg, logger, settings, pool) if settings.weights == "shared" else None

    def one(run: int, run_seed: int) -> Found:
        res = naswot_run(pool, settings, run_seed, device, cache)
        return Found(res["arch"], diagnostics={"top_score": res["top_score"]}, details=res)

    runs = repeated_search(
        one,
        table_metrics(bench, cfg.report_columns),
        cfg.search.num_runs,
        cfg.seed,
        logger,
        desc=f"NASWOT N={settings.num_samples}",
    )
    protocol = {"selection": "highest NASWOT score among the N sampled cells (nanargmax)"}
    return _result(cfg, bench, pool, settings, device, runs, cache, protocol)


def run_reuse(cfg: DictConfig, logger: RunLogger) -> RunResult:
    bench, pool, device, settings = _setup(cfg)
    reuse = cfg.search.reuse
    cache = _cache(cfg, logger, settings, pool)
    scores = ScorePool(pool, settings, cfg.seed, reuse.num_batches, cache, device)
    subset = cell_subset(cfg.seed, reuse.num_cells)

    def one(run: int, run_seed: int) -> Found:
        res = reuse_run(scores, subset, settings.num_samples, run_seed)
        diagnostics = {"top_score": res["top_score"], "entry": res["entry"]}
        return Found(res["arch"], diagnostics=diagnostics, details=res)

    runs = repeated_search(
        one,
        table_metrics(bench, cfg.report_columns),
        cfg.search.num_runs,
        cfg.seed,
        logger,
        desc=f"NASWOT reuse N={settings.num_samples}",
    )
    protocol = {
        "selection": "highest NASWOT score among the N sampled cells (nanargmax)",
        "score_reuse": (
            f"runs draw one of K={reuse.num_batches} (batch, init) entries and N cells of a"
            f" fixed subset of {len(subset)} cells; each (cell, entry) scored once"
        ),
        "num_batches": reuse.num_batches,
        "num_cells": len(subset),
    }
    return _result(cfg, bench, pool, settings, device, runs, cache, protocol)


def _result(cfg, bench, pool, settings, device, runs, cache, protocol) -> RunResult:
    signal = cfg.search.correlation_column
    archs = cells()
    scores = np.asarray([s for res in runs.details for s in res["scores"]])
    acc = np.asarray(
        [bench.value(archs[c], signal) for res in runs.details for c in res["sampled_codes"]]
    )
    ok = np.isfinite(scores) & np.isfinite(acc)
    tau = float(stats.kendalltau(scores[ok], acc[ok]).statistic) if ok.sum() > 2 else float("nan")
    shared = runs.record()
    cost = {
        **shared["cost"],
        "cells_scored": int(scores.size),
        "cells_per_s": scores.size / max(shared["cost"]["search_s_total"], 1e-9),
    }
    if cache is not None:
        cost.update(cache.stats())  # misses: scores computed by this run; hits: reused
    return RunResult(
        metrics=shared["metrics"],
        data_variant=(
            f"{pool.data_variant} for the scoring batches; accuracies: {cfg.benchmark.variant}"
            " (200 epochs)"
        ),
        protocol={
            **shared["protocol"],
            "num_samples": settings.num_samples,
            "settings": OmegaConf.to_container(cfg.search.settings, resolve=True),
            "score_hooks": settings.hooks,
            "weights": settings.weights,
            **protocol,
            "final_metric_source": FINAL_METRIC_SOURCE,
            "device": str(device),
        },
        diagnostics={
            **shared["diagnostics"],
            f"kendall_tau_score_vs_{signal}": tau,
            "scored_cells": int(ok.sum()),
        },
        cost=cost,
    )


__all__ = ["run", "run_reuse"]
