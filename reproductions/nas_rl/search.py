"""NAS-RL's search on CIFAR-10 (Zoph & Le, ICLR 2017, Sect. 3 and 4.1), and random search
over the same space with the same children, depth schedule and budget.

The loop: the depth of the next batch comes from the schedule (Sect. 3.1: the number of
layers grows as training progresses; Sect. 4.1, secondary: +2 layers every 1,600 samples,
starting at 6); ``batch`` architectures are drawn (the controller's policy, or uniformly for
random search), decoded (``space.NasRlSpace.decode``), trained by the child engine
(``common.evaluators.child_pool.ChildPool``: inline, local subprocesses or SLURM jobs, cached
by the canonical string so no child trains twice) and their validation accuracies update
the controller (``controller.NasRlController``). The paper's controller replicas updated
asynchronously, each from its own ``m`` = 8 children; one synchronous batch of 8 is the
closest single-controller equivalent.

The selected child is the one with the best reward (validation accuracy). It is then trained
once more with identical seeds (so the same weights) and, only then, scored on the test
split; nothing is selected on the test split.
"""

from __future__ import annotations

import functools
import random
import time
from dataclasses import dataclass

import torch
from omegaconf import DictConfig, OmegaConf

from common.errors import NasReproError
from common.evaluators.child_pool import ChildPool
from common.results.logging import RunLogger
from common.results.record import RunResult
from reproductions.nas_rl.child import DEFAULTS, train_child
from reproductions.nas_rl.controller import NasRlController
from reproductions.nas_rl.space import NasRlSpace

METHODS = {"controller": "NAS-RL (REINFORCE)", "random": "random search"}


@dataclass(frozen=True)
class DepthSchedule:
    """``start`` layers, ``step`` more every ``every`` children, at most ``max``."""

    start: int
    step: int
    every: int
    max: int

    def depth(self, children_done: int) -> int:
        return min(self.max, self.start + self.step * (children_done // self.every))


def uniform_rows(space: NasRlSpace, depth: int, n: int, rng: random.Random) -> torch.Tensor:
    """Random search's draws: every decision uniform, every skip bit a fair coin."""
    rows = []
    for _ in range(n):
        row = []
        for i in range(depth):
            row += [rng.randrange(k) for k in space.layer_choices]
            row += [rng.randrange(2) for _ in range(i)]
        rows.append(row)
    return torch.tensor(rows, dtype=torch.long)


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Stage function of the NAS-RL CNN search and of its random-search baseline."""
    s = cfg.search
    if s.method not in METHODS:
        raise NasReproError(f"unknown search.method {s.method!r}; valid: {', '.join(METHODS)}")
    space = NasRlSpace.make(**OmegaConf.to_container(cfg.space, resolve=True))
    schedule = DepthSchedule(**OmegaConf.to_container(s.depth, resolve=True))
    child_cfg = {
        **DEFAULTS,
        **OmegaConf.to_container(cfg.child, resolve=True),
        "data_root": cfg.data_root,
        "seed": cfg.seed,
    }
    pool = ChildPool(
        functools.partial(train_child, cfg=child_cfg),
        key=str,
        **OmegaConf.to_container(cfg.children, resolve=True),
    )
    controller = NasRlController(
        space.layer_choices,
        max_layers=schedule.max,
        skip=s.skip,
        seed=cfg.seed,
        **OmegaConf.to_container(cfg.controller, resolve=True),
    )
    rng = random.Random(cfg.seed)
    children: list[dict] = []
    by_key: dict[str, object] = {}
    updates: list[dict] = []
    start = time.perf_counter()
    while len(children) < s.num_children:
        depth = schedule.depth(len(children))
        n = min(s.batch, s.num_children - len(children))
        if s.method == "controller":
            rows = controller.sample(n, layers=depth)
        else:
            rows = uniform_rows(space, depth, n, rng)
        archs = [space.decode(r.tolist(), depth) for r in rows]
        results = pool.map(archs)
        for arch, res in zip(archs, results, strict=True):
            by_key[str(arch)] = arch
            child = {
                "index": len(children),
                "arch": str(arch),
                "reward": float(res["reward"]),
                "cost_s": float(res["cost_s"]),
                "cached": bool(res["cached"]),
                "depth": depth,
                "params": int(res.get("params", 0)),
            }
            children.append(child)
            logger.log({"reward": child["reward"], "depth": depth}, child["index"])
        if s.method == "controller" and n == s.batch:
            stats = controller.update(rows, [r["reward"] for r in results], layers=depth)
            updates.append({"after_child": len(children), **stats})
    search_s = time.perf_counter() - start
    best = max(children, key=lambda c: c["reward"])
    final = train_child(by_key[best["arch"]], {**child_cfg, "evaluate_test": True})
    return RunResult(
        metrics={
            "best_val_acc": [best["reward"]],
            "best_child_test_acc": [final["test_acc"]],
        },
        data_variant=data_variant(child_cfg),
        protocol={
            "method": s.method,
            "num_children": s.num_children,
            "batch": s.batch,
            "depth_schedule": OmegaConf.to_container(s.depth, resolve=True),
            "space": OmegaConf.to_container(cfg.space, resolve=True),
            "child": {k: v for k, v in child_cfg.items() if k != "data_root"},
            "controller": OmegaConf.to_container(cfg.controller, resolve=True),
            "children_executor": OmegaConf.to_container(cfg.children, resolve=True),
            "selection": "highest child validation accuracy; test read once, for that child",
        },
        diagnostics={
            "children": children,
            "curve_group": "nas-rl_nas-rl-space_cifar10-jpeg",
            "curve_label": METHODS[s.method],
            "best_arch": best["arch"],
            "best_params": final["params"],
            "best_retrain_val_acc": final["reward"],
            "controller_updates": updates,
        },
        cost={
            "search_s": search_s,
            "children_trained": pool.num_trained,
            "children_cost_s": sum(c["cost_s"] for c in children),
            "final_child_s": final["cost_s"],
        },
    )


def data_variant(child_cfg: dict) -> str:
    small = "small" in child_cfg["data_file"]
    name = "cifar10-jpeg-yoongikim" + ("-small" if small else "")
    return (
        f"{name}: {child_cfg['n_train'] or 'all other'} train / {child_cfg['n_val']} validation"
        f" images held out of the training split, {child_cfg['image_size']}px"
    )
