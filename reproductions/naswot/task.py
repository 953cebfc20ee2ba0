"""Stage function of the NASWOT experiments: ``num_runs`` NASWOT searches on NB-201 with N
sampled cells each; the found cells' 200-epoch benchmark accuracies are the final metrics
(Mellor et al., ICML 2021, Table 2a; 500 runs there).

The repeats, seeds, runs.csv and shared record fields are ``common.protocols.repeated``'s;
NASWOT's own diagnostic is the Kendall tau of score against accuracy over all scored cells.
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
from common.scores.device import resolve_device
from reproductions.naswot.search import NaswotSettings, cells, naswot_run


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    bench = instantiate(cfg.benchmark)
    pool = training_pool(cfg.data)
    device = resolve_device(cfg.device)
    settings = NaswotSettings(**OmegaConf.to_container(cfg.search.settings, resolve=True))
    signal = cfg.search.correlation_column

    def one(run: int, run_seed: int) -> Found:
        res = naswot_run(pool, settings, run_seed, device)
        return Found(res["arch"], diagnostics={"top_score": res["top_score"]}, details=res)

    runs = repeated_search(
        one,
        table_metrics(bench, cfg.report_columns),
        cfg.search.num_runs,
        cfg.seed,
        logger,
        desc=f"NASWOT N={settings.num_samples}",
    )
    archs = cells()
    scores = np.asarray([s for res in runs.details for s in res["scores"]])
    acc = np.asarray(
        [bench.value(archs[c], signal) for res in runs.details for c in res["sampled_codes"]]
    )
    ok = np.isfinite(scores) & np.isfinite(acc)
    tau = float(stats.kendalltau(scores[ok], acc[ok]).statistic) if ok.sum() > 2 else float("nan")
    shared = runs.record()
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
            "selection": "highest NASWOT score among the N sampled cells (nanargmax)",
            "final_metric_source": FINAL_METRIC_SOURCE,
            "device": str(device),
        },
        diagnostics={
            **shared["diagnostics"],
            f"kendall_tau_score_vs_{signal}": tau,
            "scored_cells": int(ok.sum()),
        },
        cost={
            **shared["cost"],
            "cells_scored": int(scores.size),
            "cells_per_s": scores.size / max(shared["cost"]["search_s_total"], 1e-9),
        },
    )
