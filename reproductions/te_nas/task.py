"""Stage function of the TE-NAS experiments: ``num_runs`` independent TE-NAS searches on
NB-201 (TE-NAS Table 1: four runs with different seeds); the found cells' 200-epoch
benchmark accuracies on all three datasets are the final metrics.

The repeats, seeds, runs.csv and shared record fields are ``common.protocols.repeated``'s;
TE-NAS's own output is its pruning history (``pruning_history.json``, and the kappa and
region-count trajectories in the record).
"""

from __future__ import annotations

import json

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from common.data.pool import training_pool
from common.protocols.nb201_query import FINAL_METRIC_SOURCE, table_metrics
from common.protocols.repeated import Found, repeated_search
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.scores.device import resolve_device
from reproductions.te_nas.search import TeNasSettings, te_nas_search


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    bench = instantiate(cfg.benchmark)
    pool = training_pool(cfg.data)
    device = resolve_device(cfg.device)
    settings = TeNasSettings(**OmegaConf.to_container(cfg.search.settings, resolve=True))

    def one(run: int, run_seed: int) -> Found:
        res = te_nas_search(pool, settings, run_seed, device)
        return Found(res["arch"], details=res["rounds"])

    metrics = table_metrics(bench, cfg.report_columns)
    runs = repeated_search(one, metrics, cfg.search.num_runs, cfg.seed, logger, "TE-NAS searches")
    histories = runs.details
    (logger.run_dir / "pruning_history.json").write_text(json.dumps(histories, indent=1))
    shared = runs.record()
    return RunResult(
        metrics=shared["metrics"],
        data_variant=(
            f"{pool.data_variant} for the NTK batches and region crops; accuracies: "
            f"{cfg.benchmark.variant} (200 epochs)"
        ),
        protocol={
            **shared["protocol"],
            "search_dataset": "CIFAR-10 JPEG copy (TE-NAS searched each dataset separately)",
            "settings": OmegaConf.to_container(cfg.search.settings, resolve=True),
            "selection": "pruning until one op per edge (Algorithm 1); no selection among runs",
            "final_metric_source": FINAL_METRIC_SOURCE,
            "device": str(device),
        },
        diagnostics={
            **shared["diagnostics"],
            "kappa_trajectory": [[rd["kappa"] for rd in rounds] for rounds in histories],
            "regions_trajectory": [[rd["regions"] for rd in rounds] for rounds in histories],
        },
        cost=shared["cost"],
    )
