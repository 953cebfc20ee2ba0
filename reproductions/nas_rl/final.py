"""NAS-RL after the search: the found network's training settings tuned on validation, then the
network trained to convergence and tested once (Zoph & Le, ICLR 2017, Sect. 4.1).

What the paper does (its experiments section was not readable here: recalled, unverified):
after the 12,800 children, the architecture of best validation accuracy gets "a small grid
search over learning rate, weight decay, batchnorm epsilon and what epoch to decay the
learning rate"; the best model of that grid is "run until convergence" and its test accuracy
is Table 1's number.

``run`` reads a NAS-RL search's record (``search_record=``: its ``best_arch``), trains the
network once per point of ``final.grid`` (every combination of the listed values of child
training keys: ``lr``, ``weight_decay``, ``bn_eps``, ``lr_drops``) for ``final.grid_epochs``
epochs through the child engine (``children=inline|local|slurm``: the points are
independent), picks the point of best validation reward (the children's own: the best
validation accuracy of the last epochs; ties go to the earlier point), trains the network
with it for ``final.epochs`` epochs and reads the test split once. Every training uses the
search's child recipe and data split otherwise; "until convergence" is a fixed, longer
schedule here (README, deviations).
"""

from __future__ import annotations

import functools
import itertools
import json
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from common.errors import NasReproError
from common.evaluators.child_pool import ChildPool
from common.results.logging import RunLogger
from common.results.record import RunResult, load_search_record
from reproductions.nas_rl.child import DEFAULTS, train_child
from reproductions.nas_rl.search import data_variant
from reproductions.nas_rl.space import NasRlArch

GRID_KEYS = ("lr", "weight_decay", "bn_eps", "lr_drops")
HINT = (
    "a NAS-RL CNN search's run record, e.g."
    " results/nas_rl/nas-rl_nas-rl-space_cifar10-jpeg_reduced__seed0.json"
)


def load_search(path: str | Path) -> dict[str, Any]:
    """The record of a NAS-RL CNN search (stage ``search``, with its ``best_arch``)."""
    return load_search_record(path, "nas_rl", "best_arch", "a NAS-RL CNN search record", HINT)


def grid_points(grid: dict[str, list]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in the order of its keys and values."""
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown or not grid:
        raise NasReproError(
            f"final.grid keys {unknown or '(none)'}: a grid takes one or more of"
            f" {', '.join(GRID_KEYS)}"
        )
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise NasReproError(f"final.grid.{key}={values}: a non-empty list of values")
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def check_same_data(record: dict, child_cfg: dict, cfg: DictConfig) -> None:
    """The network is trained on the images and split its search used."""
    searched = (record.get("protocol") or {}).get("child") or {}
    keys = ("data_file", "n_train", "n_val", "split_seed", "image_size")
    theirs = {k: searched.get(k) for k in keys}
    mine = {k: child_cfg.get(k) for k in keys}
    if theirs != mine:
        raise NasReproError(
            f"search_record={cfg.search_record}: its children trained on {theirs}, experiment"
            f" {cfg.experiment_name!r} on {mine}; give the record of a search on the same data"
        )


def _train_point(point: dict[str, Any], arch: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """One training of ``arch`` with ``point``'s settings (a picklable child-engine job)."""
    return train_child(NasRlArch.parse(arch), {**cfg, **point})


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    record = load_search(cfg.search_record)
    arch = NasRlArch.parse(record["diagnostics"]["best_arch"])
    f = cfg.final
    child_cfg = {
        **DEFAULTS,
        **OmegaConf.to_container(cfg.child, resolve=True),
        "data_root": cfg.data_root,
        "seed": cfg.seed,
    }
    check_same_data(record, child_cfg, cfg)
    points = grid_points(OmegaConf.to_container(f.grid, resolve=True))
    grid_cfg = {**child_cfg, "epochs": int(f.grid_epochs)}
    pool = ChildPool(
        functools.partial(_train_point, arch=str(arch), cfg=grid_cfg),
        key=lambda p: json.dumps(p, sort_keys=True),
        **OmegaConf.to_container(cfg.children, resolve=True),
    )
    start = time.perf_counter()
    results = pool.map(points)
    grid_s = time.perf_counter() - start
    grid = []
    for i, (point, res) in enumerate(zip(points, results, strict=True)):
        grid.append({**point, "val_reward": res["reward"], "cost_s": res["cost_s"]})
        logger.log({"final/grid_val_reward": res["reward"]}, step=i)
    best_i = max(range(len(points)), key=lambda i: (results[i]["reward"], -i))
    best = points[best_i]
    final = train_child(arch, {**child_cfg, **best, "epochs": int(f.epochs), "evaluate_test": True})
    for epoch, acc in enumerate(final["val_curve"]):
        logger.log({"final/val_acc": acc}, step=epoch)
    return RunResult(
        metrics={"test_acc": [final["test_acc"]], "val_acc": [final["reward"]]},
        data_variant=data_variant(child_cfg),
        protocol={
            "search": record.get("experiment"),
            "search_record": str(cfg.search_record),
            "search_seed": record.get("seed"),
            "search_commit": record.get("git_commit"),
            "arch": str(arch),
            "grid": OmegaConf.to_container(f.grid, resolve=True),
            "grid_epochs": int(f.grid_epochs),
            "chosen": best,
            "epochs": int(f.epochs),
            "child": {k: v for k, v in {**child_cfg, **best}.items() if k != "data_root"},
            "selection": (
                "grid point of best validation reward; the test split read once, after the"
                " final training"
            ),
        },
        diagnostics={
            "grid": grid,
            "val_curve": final["val_curve"],
            "search_best_val_acc": (record.get("metrics") or {}).get("best_val_acc"),
        },
        cost={
            "grid_trained": pool.num_trained,
            "grid_s": float(sum(g["cost_s"] for g in grid)),
            "grid_wall_s": grid_s,
            "final_s": final["cost_s"],
            "params": final["params"],
        },
    )
