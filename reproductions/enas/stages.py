"""ENAS search on NAS-Bench-201 with shared weights as a run-record producing task (Pham et
al., ICML 2018, Sect. 2.2-2.3, as the NB-201 paper ran it: Dong & Yang, ICLR 2020, Sect. 5).

``search``: the supernet and the controller alternate (``search_module.EnasSearchModule``),
the cell is derived from 100 sampled children, written to ``arch.json`` and looked up in the
NB-201 table: its table accuracies are the run's only final metrics (as the DARTS NB-201
search record). Diagnostics: the per-epoch log of the controller's parameter-free share and
entropy (does it collapse towards skip/pool cells, as NB-201 reports?), AutoDL's per-epoch
pick with its table accuracy, and the ranking quality of the shared weights (Kendall's tau
of their accuracy against the table over a fixed sample of cells).
"""

from __future__ import annotations

import json
import random
from itertools import islice
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from common.data.views import TrainHalf
from common.errors import NasReproError
from common.protocols.ranking import kendall_tau
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.spaces.nb201.arch import Nb201Arch
from common.speed import Speed
from common.training.fit import fit
from reproductions.enas.search_module import PARAMETER_FREE, EnasSearchModule

DERIVATION = "best of {n} sampled children, each scored on one minibatch of the other half"


def rank_sample(num_archs: int, seed: int) -> list[Nb201Arch]:
    """``num_archs`` distinct cells drawn uniformly with a fixed seed (the same for every run,
    so that taus compare across seeds)."""
    rng, seen = random.Random(seed), {}
    while len(seen) < num_archs:
        arch = Nb201Arch.sample(rng)
        seen.setdefault(arch, None)
    return list(seen)


def search(cfg: DictConfig, logger: RunLogger) -> RunResult:
    data = instantiate(cfg.data)
    if data.split != "search":
        raise NasReproError(f"ENAS needs data.split=search, got {data.split!r}")
    if not cfg.get("benchmark"):
        raise NasReproError("ENAS on NB-201 reports the table's accuracies: set benchmark=nb201")
    data.setup("fit")
    net = instantiate(
        cfg.search.network, num_classes=data.num_classes, in_channels=data.in_channels
    )
    controller = instantiate(cfg.search.controller)
    rk = cfg.search.ranking
    rank_archs = rank_sample(rk.num_archs, rk.seed) if rk.num_archs else []
    module = EnasSearchModule(
        net,
        controller,
        reward_batches=data.val_dataloader(),
        rank_archs=rank_archs,
        rank_bn_batches=list(islice(data.train_dataloader(), rk.bn_batches)),
        rank_val_batches=list(islice(data.val_dataloader(), rk.val_batches)),
        **cfg.search.optim,
        speed=Speed.from_cfg(cfg.get("speed")),
    )
    run_epochs = cfg.search.get("run_epochs") or cfg.search.epochs
    fit(module, TrainHalf(data), cfg.trainer, run_epochs, logger)
    arch = module.final["arch"]
    path = Path(logger.run_dir) / "arch.json"
    path.write_text(json.dumps({"space": "nb201", "arch": str(arch)}, indent=1) + "\n")

    bench = instantiate(cfg.benchmark)
    metrics = {c: [bench.value(arch, c)] for c in cfg.report_columns}
    history = [
        {
            **h,
            "epoch_pick_table": {
                c: bench.value(Nb201Arch.parse(h["epoch_pick"]), c)
                for c in ("cifar10_valid", "cifar10_test")
            },
        }
        for h in module.history
    ]
    with open(Path(logger.run_dir) / "controller.jsonl", "w") as f:
        f.writelines(json.dumps(h) + "\n" for h in history)
    return RunResult(
        metrics=metrics,
        data_variant=f"{data.data_variant}; accuracies from {cfg.benchmark.variant} (200 epochs)",
        protocol={
            "found": str(arch),
            "artefact": str(path),
            "num_searches": 1,
            "derivation": DERIVATION.format(n=cfg.search.optim.derive_samples),
            "search_network": OmegaConf.to_container(cfg.search.network, resolve=True),
            "controller": OmegaConf.to_container(cfg.search.controller, resolve=True),
            "optim": OmegaConf.to_container(cfg.search.optim, resolve=True),
            "search_split": "half of the training set for the shared weights, the other half "
            "for the controller's rewards",
            "data": data.record(),
        },
        diagnostics={
            "epochs": history,
            "found_param_free_edges": sum(op in PARAMETER_FREE for op in arch.ops),
            "found_minibatch_acc": module.final["minibatch_acc"],
            "ranking": ranking_summary(module.ranking, bench, rk),
        },
        cost={
            "search_epochs_run": len(history),
            "search_epochs_schedule": cfg.search.epochs,
            "epoch_wall_s": [h["epoch_wall_s"] for h in history],
            "ranking_wall_s": module.ranking.get("wall_s"),
        },
    )


def ranking_summary(ranking: dict, bench, rk: DictConfig) -> dict:
    """Kendall's tau of the shared weights' accuracies against the table's (200-epoch
    cifar10-valid accuracy) over the fixed sample of cells."""
    if not ranking:
        return {}
    archs = [Nb201Arch.parse(a) for a in ranking["archs"]]
    table = [bench.value(a, "cifar10_valid") for a in archs]
    return {
        "num_archs": len(archs),
        "sample_seed": rk.seed,
        "against": "NB-201 table cifar10_valid (200 epochs)",
        "val_images": "the first minibatches of the controller's half (training transform)",
        "kendall_tau_as_rewarded": kendall_tau(ranking["as_rewarded"], table),
        "kendall_tau_bn_recalibrated": kendall_tau(ranking["bn_recalibrated"], table),
        "archs": ranking["archs"],
        "as_rewarded": ranking["as_rewarded"],
        "bn_recalibrated": ranking["bn_recalibrated"],
    }
