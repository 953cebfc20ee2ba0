"""Stage function of the TE-NAS DARTS-space search: ``search.num_runs`` searches (TE-NAS
Table 2: four seeds; here one per ``seed``), each genotype written to the run folder as
``genotype_search<i>.json``, the first also as ``genotype.json``, the artefact the DARTS
retrain stage reads (``experiment=te-nas_darts-space_cifar10_retrain genotype=...``).

A search trains nothing, so its one comparable number is the size of the found cell in the
CIFAR-10 evaluation network (20 cells, 36 channels, auxiliary head excluded), next to the
3.8 M of Table 2; the test error needs the 600-epoch retrain.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from common.results.logging import RunLogger
from common.results.record import RunResult
from common.scores.batches import load_image_pool, resolve_device
from common.search.nb201_protocol import RUN_SEED_STRIDE, summarize
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
    pool = load_image_pool(cfg.images.path)
    device = resolve_device(cfg.device)
    settings = TeNasDartsSettings(**OmegaConf.to_container(cfg.search.settings, resolve=True))
    run_dir = Path(logger.run_dir)

    genotypes, params, seconds, histories, files = [], [], [], [], []
    for r in range(cfg.search.num_runs):

        def progress(rd: dict, r: int = r) -> None:
            log.info(
                "search %d, %s round: kappa %.4g, regions %.4g, %d pruned, %.0f s",
                r, rd["phase"], rd["kappa"], rd["regions"], len(rd["pruned"]), rd["elapsed_s"],
            )  # fmt: skip

        res = te_nas_darts_search(
            pool, settings, cfg.seed * RUN_SEED_STRIDE + r, device, progress=progress
        )
        genotype = res["genotype"]
        path = run_dir / f"genotype_search{r}.json"
        genotype.save(path)
        if r == 0:
            genotype.save(run_dir / "genotype.json")
        genotypes.append(str(genotype))
        files.append(str(path))
        params.append(cifar_params_m(genotype, cfg.evaluation_network))
        seconds.append(res["search_s"])
        histories.append(res["rounds"])
        logger.log({"params_m": params[-1], "search_s": seconds[-1]}, step=r)
    (run_dir / "pruning_history.json").write_text(json.dumps(histories, indent=1))

    return RunResult(
        metrics={"params_m": params},
        data_variant=f"{pool.data_variant} for the NTK batches and region crops",
        protocol={
            "num_searches": cfg.search.num_runs,
            "settings": OmegaConf.to_container(cfg.search.settings, resolve=True),
            "selection": "pruning until one op per edge, then two edges per node; no selection among runs",
            "artefact": str(run_dir / "genotype.json"),
            "params_counted_in": OmegaConf.to_container(cfg.evaluation_network, resolve=True),
            "run_seeds": f"seed * {RUN_SEED_STRIDE} + run",
            "device": str(device),
        },
        diagnostics={
            "found_genotypes": genotypes,
            "genotype_files": files,
            "kappa_trajectory": [[rd["kappa"] for rd in h] for h in histories],
            "regions_trajectory": [[rd["regions"] for rd in h] for h in histories],
        },
        cost={"search_s_per_run": summarize(seconds)},
    )
