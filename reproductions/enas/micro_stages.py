"""ENAS micro search on CIFAR-10 as run-record producing tasks (Pham et al., ICML 2018, Sect.
2.3, 3.2; ``scripts/cifar10_micro_search.sh`` @4bcfd73).

``search``: the shared-weight search (``micro_search.MicroSearchModule``), the best of the
derived children written as a DARTS-space ``genotype.json`` (5 nodes, concat = the unused
states), which the DARTS evaluation protocol (``common.protocols.darts_eval.retrain`` with
``retrain.steps: 5``) trains from scratch. ``search_and_retrain``: both in one run (the
reduced experiment), the retrain reading the genotype back from the file. A search alone reports no accuracy: the
shared-weight minibatch accuracy of the pick is a diagnostic. ``retrain_cell``: the same
retrain for a cell a search found (its record or genotype file) or, as the baseline at equal
cost, a uniform random cell of the micro space drawn from the seed.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from common.controllers.micro_policy import CELLS, MICRO_OPS
from common.data.views import TrainHalf
from common.errors import NasReproError
from common.protocols.darts_eval import FINAL_METRIC, load_genotype, train_genotype
from common.results.logging import RunLogger
from common.results.record import RunResult, read_json_input
from common.spaces.darts.genotype import Genotype
from common.speed import Speed
from common.training.fit import fit
from reproductions.enas.micro_search import MicroSearchModule, arc_genotype

STEPS = 5  # cifar10_micro_search.sh L20: --child_num_cells=5


def run_search(
    cfg: DictConfig,
    logger: RunLogger,
    module_cls: type[MicroSearchModule] = MicroSearchModule,
    filename: str = "genotype.json",
) -> tuple[Genotype, Path, MicroSearchModule]:
    """Search; the found architecture (``module.final["arch"]``: it saves itself) is written
    to ``filename`` in the run folder."""
    data = instantiate(cfg.data)
    if data.split != "search":
        raise NasReproError(f"ENAS needs data.split=search, got {data.split!r}")
    data.setup("fit")
    net = instantiate(
        cfg.search.network, num_classes=data.num_classes, in_channels=data.in_channels
    )
    controller = instantiate(cfg.search.controller)
    module = module_cls(
        net,
        controller,
        reward_batches=data.val_dataloader(),
        speed=Speed.from_cfg(cfg.get("speed")),
        **cfg.search.optim,
    )
    run_epochs = cfg.search.get("run_epochs") or cfg.search.epochs
    fit(module, TrainHalf(data), cfg.trainer, run_epochs, logger)
    genotype = module.final["arch"]
    path = Path(logger.run_dir) / filename
    genotype.save(path)
    with open(Path(logger.run_dir) / "controller.jsonl", "w") as f:
        f.writelines(json.dumps(h) + "\n" for h in module.history)
    module.data_variant = data.data_variant
    return genotype, path, module


def _search_record(cfg: DictConfig, genotype: Genotype, path: Path, module) -> dict:
    n = cfg.search.optim.derive_samples
    children = [
        {"index": i, "arch": a, "reward": s, "cost_s": 0.0, "cached": False}
        for i, (a, s) in enumerate(module.final.get("candidates", []))
    ]
    return {
        "protocol": {
            "found": str(genotype),
            "artefact": str(path),
            "num_searches": 1,
            "derivation": f"best of {n} sampled children, each scored on one minibatch of the "
            "other half with the shared weights",
            "search_network": OmegaConf.to_container(cfg.search.network, resolve=True),
            "controller": OmegaConf.to_container(cfg.search.controller, resolve=True),
            "optim": OmegaConf.to_container(cfg.search.optim, resolve=True),
            "search_split": "half of the training set for the shared weights, the other half "
            "for the controller's rewards",
        },
        "diagnostics": {
            "epochs": module.history,
            "found_minibatch_acc": module.final["minibatch_acc"],
            "found_param_free_edges": module.param_free_edges(genotype),
            "derivation_candidates": children,
        },
        "cost": {
            "search_epochs_run": len(module.history),
            "search_epochs_schedule": cfg.search.epochs,
            "epoch_wall_s": [h["epoch_wall_s"] for h in module.history],
        },
    }


def search(cfg: DictConfig, logger: RunLogger) -> RunResult:
    genotype, path, module = run_search(cfg, logger)
    rec = _search_record(cfg, genotype, path, module)
    return RunResult(
        metrics={},
        data_variant=module.data_variant,
        protocol=rec["protocol"],
        diagnostics=rec["diagnostics"],
        cost=rec["cost"],
    )


def search_and_retrain(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Search, then retrain the genotype read back from its file (``retrain.epochs``)."""
    _, path, module = run_search(cfg, logger)
    genotype = load_genotype(path, cfg.retrain.get("steps", STEPS))
    rec = _search_record(cfg, genotype, path, module)
    run = train_genotype(cfg, logger, genotype, cfg.retrain.epochs, cfg.seed, test=True)
    return RunResult(
        metrics={"test_acc": [run["test_acc"]], "test_error": [100.0 - run["test_acc"]]},
        data_variant=run["data_variant"],
        protocol={
            **rec["protocol"],
            "retrain_epochs": cfg.retrain.epochs,
            "retrain_network": OmegaConf.to_container(cfg.retrain.network, resolve=True),
            "final_metric": FINAL_METRIC,
        },
        diagnostics={**rec["diagnostics"], "retrain_val_acc": run["val_acc"]},
        cost={**rec["cost"], "params_m": run["params_m"]},
    )


def random_cell(rng: random.Random, num_cells: int = 5) -> Genotype:
    """A micro arc with every decision uniform (each node: two inputs among the earlier states,
    two ops), as the controller's policy samples before it learns, as a genotype."""
    row = []
    for _ in CELLS:
        for i in range(num_cells):
            for _ in ("x", "y"):
                row += [rng.randrange(i + 2), rng.randrange(len(MICRO_OPS))]
    return arc_genotype(row, num_cells)


def found_cell(path: str, steps: int) -> tuple[Genotype, dict]:
    """The genotype in ``path``: an ENAS micro search's run record (its ``protocol.found``) or a
    genotype file; and where it came from."""
    data = read_json_input("genotype", path, "an ENAS micro search's record or genotype.json")
    if isinstance(data, dict) and "protocol" in data:  # a run record
        found = (data.get("protocol") or {}).get("found")
        if data.get("paper") != "enas" or not str(data.get("stage", "")).startswith("search"):
            raise NasReproError(
                f"genotype={path} is the record of {data.get('experiment')!r}, not an ENAS micro"
                " search; give results/enas/enas_darts-space_cifar10-jpeg_search_reduced__seed0.json"
                " or a genotype.json"
            )
        if not isinstance(found, str) or "Genotype(" not in found:
            raise NasReproError(
                f"genotype={path}: {data.get('experiment')!r} found no DARTS-space cell (an ENAS"
                " macro or NB-201 search?); give an ENAS micro search's record"
            )
        source = {"search": data.get("experiment"), "search_seed": data.get("seed")}
        return Genotype.parse(found, steps=steps), {
            **source,
            "search_commit": data.get("git_commit"),
        }
    return load_genotype(path, steps), {"genotype_file": str(path)}


def retrain_cell(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Retrain (``retrain.epochs``, seed ``seed``) the cell ``genotype=`` names or, with
    ``random_cell: true``, a uniform random micro cell drawn from ``seed``; test once."""
    steps = cfg.retrain.get("steps", STEPS)
    if cfg.get("random_cell"):
        genotype, source = random_cell(random.Random(cfg.seed), steps), {"cell": "uniform random"}
    elif cfg.get("genotype"):
        genotype, source = found_cell(str(cfg.genotype), steps)
    else:
        raise NasReproError(
            f"experiment {cfg.experiment_name!r} needs genotype=<a search record or"
            " genotype.json> or random_cell=true"
        )
    run = train_genotype(cfg, logger, genotype, cfg.retrain.epochs, cfg.seed, test=True)
    return RunResult(
        metrics={"test_acc": [run["test_acc"]], "test_error": [100.0 - run["test_acc"]]},
        data_variant=run["data_variant"],
        protocol={
            "genotype": str(genotype),
            **source,
            "retrain_epochs": cfg.retrain.epochs,
            "retrain_network": OmegaConf.to_container(cfg.retrain.network, resolve=True),
            "final_metric": FINAL_METRIC,
        },
        diagnostics={"retrain_val_acc": run["val_acc"]},
        cost={"params_m": run["params_m"]},
    )
