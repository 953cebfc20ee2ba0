"""The stage function of every query-based NB-201 experiment (RS, REA, REINFORCE, ...).

``cfg.search`` is a partial of the search function, ``cfg.protocol`` the NB-201 protocol and
``cfg.benchmark`` the table. Final metrics are the found architectures' 200-epoch benchmark
accuracies; the search signal and the budget spent are diagnostics and cost.
"""

from __future__ import annotations

import csv

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from common.results.logging import RunLogger
from common.results.record import RunResult
from common.search.nb201_protocol import Nb201Protocol, found_summary, run_protocol, summarize


def run_nb201_query_search(cfg: DictConfig, logger: RunLogger) -> RunResult:
    bench = instantiate(cfg.benchmark)
    protocol = Nb201Protocol(**OmegaConf.to_container(cfg.protocol, resolve=True))
    search = instantiate(cfg.search)
    out = run_protocol(search, bench, protocol, seed=cfg.seed)

    for run in range(protocol.num_runs):
        logger.log({c: out[c][run] for c in (*protocol.report_columns, "num_queries")}, step=run)
    with open(logger.run_dir / "runs.csv", "w", newline="") as f:  # one row per search run
        w = csv.writer(f)
        keys = ["arch", "num_queries", "simulated_time_s", *protocol.report_columns]
        w.writerow(["run", *keys])
        for run in range(protocol.num_runs):
            w.writerow([run, *(out[k][run] for k in keys)])

    return RunResult(
        metrics={c: out[c] for c in protocol.report_columns},
        data_variant=f"{cfg.benchmark.variant} (200-epoch results; search on cifar10-valid)",
        protocol={
            **protocol.as_record(),
            "num_searches": protocol.num_runs,
            "final_metric_source": "NB-201 table, 200 epochs, mean over the benchmark's seeds",
            "search_hyperparameters": {
                k: v for k, v in OmegaConf.to_container(cfg.search).items() if k != "_partial_"
            },
        },
        diagnostics={
            "num_queries": summarize(out["num_queries"]),
            **found_summary(out["arch"]),
        },
        cost={
            "simulated_search_s_per_run": summarize(out["simulated_time_s"]),
            "search_wall_s_total": float(sum(out["search_wall_s"])),
            "queries_total": int(sum(out["num_queries"])),
            "queries_per_s": float(sum(out["num_queries"]) / max(sum(out["search_wall_s"]), 1e-9)),
        },
    )
