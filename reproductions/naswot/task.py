"""Stage function of the NASWOT experiments: ``num_runs`` NASWOT searches on NB-201 with N
sampled cells each; the found cells' 200-epoch benchmark accuracies are the final metrics
(Mellor et al., ICML 2021, Table 2a; 500 runs there).
"""

from __future__ import annotations

import csv

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from scipy import stats

from common.results.logging import RunLogger
from common.results.record import RunResult
from common.scores.batches import load_image_pool, resolve_device
from common.search.nb201_protocol import RUN_SEED_STRIDE, found_summary, summarize
from reproductions.naswot.search import NaswotSettings, cells, naswot_run


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    bench = instantiate(cfg.benchmark)
    pool = load_image_pool(cfg.images.path)
    device = resolve_device(cfg.device)
    settings = NaswotSettings(**OmegaConf.to_container(cfg.search.settings, resolve=True))
    columns = list(cfg.report_columns)
    signal = cfg.search.correlation_column

    out: dict = {c: [] for c in columns}
    out.update(arch=[], top_score=[], search_s=[])
    pooled_scores, pooled_acc = [], []
    archs = cells()
    for r in range(cfg.search.num_runs):
        res = naswot_run(pool, settings, cfg.seed * RUN_SEED_STRIDE + r, device)
        for c in columns:
            out[c].append(bench.value(res["arch"], c))
        out["arch"].append(str(res["arch"]))
        out["top_score"].append(res["top_score"])
        out["search_s"].append(res["search_s"])
        pooled_scores += res["scores"]
        pooled_acc += [bench.value(archs[code], signal) for code in res["sampled_codes"]]
        logger.log({**{c: out[c][-1] for c in columns}, "search_s": res["search_s"]}, step=r)

    with open(logger.run_dir / "runs.csv", "w", newline="") as f:
        w = csv.writer(f)
        keys = ["arch", "top_score", "search_s", *columns]
        w.writerow(["run", *keys])
        for r in range(cfg.search.num_runs):
            w.writerow([r, *(out[k][r] for k in keys)])

    s, a = np.asarray(pooled_scores), np.asarray(pooled_acc)
    ok = np.isfinite(s) & np.isfinite(a)
    tau = float(stats.kendalltau(s[ok], a[ok]).statistic) if ok.sum() > 2 else float("nan")
    return RunResult(
        metrics={c: out[c] for c in columns},
        data_variant=(
            f"{pool.data_variant} for the scoring batches; accuracies: {cfg.benchmark.variant}"
            " (200 epochs)"
        ),
        protocol={
            "num_searches": cfg.search.num_runs,
            "num_samples": settings.num_samples,
            "settings": OmegaConf.to_container(cfg.search.settings, resolve=True),
            "selection": "highest NASWOT score among the N sampled cells (nanargmax)",
            "final_metric_source": "NB-201 table, 200 epochs, mean over the benchmark's seeds",
            "run_seeds": f"seed * {RUN_SEED_STRIDE} + run",
            "device": str(device),
        },
        diagnostics={
            "top_score": summarize(out["top_score"]),
            **found_summary(out["arch"]),
            f"kendall_tau_score_vs_{signal}": tau,
            "scored_cells": int(ok.sum()),
        },
        cost={
            "search_s_per_run": summarize(out["search_s"]),
            "cells_scored": len(pooled_scores),
            "cells_per_s": len(pooled_scores) / max(sum(out["search_s"]), 1e-9),
        },
    )
