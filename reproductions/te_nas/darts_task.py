"""Stage function of the TE-NAS DARTS-space search: ``search.num_runs`` searches (TE-NAS
Table 2: four seeds; here one per ``seed``), each genotype written to the run folder as
``genotype_search<i>.json``, the first also as ``genotype.json``, the artefact the DARTS
retrain stage reads (``experiment=te-nas_darts-space_cifar10_retrain genotype=...``).

A search trains nothing, so its one comparable number is the size of the found cell in the
CIFAR-10 evaluation network (20 cells, 36 channels, auxiliary head excluded), next to the
3.8 M of Table 2; the test error needs the 600-epoch retrain. The repeats, seeds, runs.csv
and shared record fields are ``common.protocols.repeated``'s.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from common.data.pool import training_pool
from common.protocols.repeated import Found, repeated_search
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.scores.device import resolve_device
from common.spaces.darts.model import NetworkCIFAR, count_params_m
from reproductions.te_nas.darts_search import TeNasDartsSettings, te_nas_darts_search

log = logging.getLogger(__name__)


def cifar_params_m(genotype, network: DictConfig) -> float:
    """Parameters (M) of ``genotype`` in the CIFAR evaluation network, as DARTS counts them."""
    net = NetworkCIFAR(
        C=network.C, num_classes=network.num_classes, layers=network.layers, genotype=genotype
    )
    return round(count_params_m(net), 4)


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    pool = training_pool(cfg.data)
    device = resolve_device(cfg.device)
    settings = TeNasDartsSettings(**OmegaConf.to_container(cfg.search.settings, resolve=True))
    run_dir = Path(logger.run_dir)

    def one(run: int, run_seed: int) -> Found:
        def progress(rd: dict) -> None:
            log.info(
                "search %d, %s round: kappa %.4g, regions %.4g, %d pruned, %.0f s",
                run, rd["phase"], rd["kappa"], rd["regions"], len(rd["pruned"]), rd["elapsed_s"],
            )  # fmt: skip

        res = te_nas_darts_search(pool, settings, run_seed, device, progress=progress)
        genotype, path = res["genotype"], run_dir / f"genotype_search{run}.json"
        genotype.save(path)
        if run == 0:
            genotype.save(run_dir / "genotype.json")
        return Found(genotype, details={"rounds": res["rounds"], "file": str(path)})

    def params(genotype) -> dict[str, float]:
        return {"params_m": cifar_params_m(genotype, cfg.evaluation_network)}

    runs = repeated_search(
        one, params, cfg.search.num_runs, cfg.seed, logger, desc="TE-NAS DARTS-space searches"
    )
    histories = [d["rounds"] for d in runs.details]
    (run_dir / "pruning_history.json").write_text(json.dumps(histories, indent=1))
    shared = runs.record()
    return RunResult(
        metrics=shared["metrics"],
        data_variant=f"{pool.data_variant} for the NTK batches and region crops",
        protocol={
            **shared["protocol"],
            "settings": OmegaConf.to_container(cfg.search.settings, resolve=True),
            "selection": "pruning until one op per edge, then two edges per node; no selection among runs",
            "artefact": str(run_dir / "genotype.json"),
            "params_counted_in": OmegaConf.to_container(cfg.evaluation_network, resolve=True),
            "device": str(device),
        },
        diagnostics={
            **shared["diagnostics"],
            "genotype_files": [d["file"] for d in runs.details],
            "kappa_trajectory": [[rd["kappa"] for rd in h] for h in histories],
            "regions_trajectory": [[rd["regions"] for rd in h] for h in histories],
        },
        cost=shared["cost"],
    )
