"""Stage function of the TE-NAS experiments: ``num_runs`` independent TE-NAS searches on
NB-201 (TE-NAS Table 1: four runs with different seeds); the found cells' 200-epoch
benchmark accuracies on all three datasets are the final metrics.
"""

from __future__ import annotations

import csv
import json

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from common.results.logging import RunLogger
from common.results.record import RunResult
from common.scores.batches import load_image_pool, resolve_device
from common.search.nb201_protocol import RUN_SEED_STRIDE, found_summary, summarize
from reproductions.te_nas.search import TeNasSettings, te_nas_search


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    bench = instantiate(cfg.benchmark)
    pool = load_image_pool(cfg.images.path)
    device = resolve_device(cfg.device)
    settings = TeNasSettings(**OmegaConf.to_container(cfg.search.settings, resolve=True))
    columns = list(cfg.report_columns)

    out: dict = {c: [] for c in columns}
    out.update(arch=[], search_s=[], rounds=[])
    for r in range(cfg.search.num_runs):
        res = te_nas_search(pool, settings, cfg.seed * RUN_SEED_STRIDE + r, device)
        for c in columns:
            out[c].append(bench.value(res["arch"], c))
        out["arch"].append(str(res["arch"]))
        out["search_s"].append(res["search_s"])
        out["rounds"].append(res["rounds"])
        logger.log({**{c: out[c][-1] for c in columns}, "search_s": res["search_s"]}, step=r)

    with open(logger.run_dir / "runs.csv", "w", newline="") as f:
        w = csv.writer(f)
        keys = ["arch", "search_s", *columns]
        w.writerow(["run", *keys])
        for r in range(cfg.search.num_runs):
            w.writerow([r, *(out[k][r] for k in keys)])
    (logger.run_dir / "pruning_history.json").write_text(json.dumps(out["rounds"], indent=1))

    return RunResult(
        metrics={c: out[c] for c in columns},
        data_variant=(
            f"{pool.data_variant} for the NTK batches and region crops; accuracies: "
            f"{cfg.benchmark.variant} (200 epochs)"
        ),
        protocol={
            "num_searches": cfg.search.num_runs,
            "search_dataset": "CIFAR-10 JPEG copy (TE-NAS searched each dataset separately)",
            "settings": OmegaConf.to_container(cfg.search.settings, resolve=True),
            "selection": "pruning until one op per edge (Algorithm 1); no selection among runs",
            "final_metric_source": "NB-201 table, 200 epochs, mean over the benchmark's seeds",
            "run_seeds": f"seed * {RUN_SEED_STRIDE} + run",
            "device": str(device),
        },
        diagnostics={
            **found_summary(out["arch"]),
            "kappa_trajectory": [[rd["kappa"] for rd in rounds] for rounds in out["rounds"]],
            "regions_trajectory": [[rd["regions"] for rd in rounds] for rounds in out["rounds"]],
        },
        cost={"search_s_per_run": summarize(out["search_s"])},
    )
