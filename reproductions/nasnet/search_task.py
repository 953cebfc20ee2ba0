"""NASNet's search with trained children (Zoph et al., CVPR 2018, Sect. 3-4.4, App. A), and
random search of equal cost (Sect. 4.4, Fig. 6: the same number of sampled architectures).

``run(cfg, logger)`` with ``search.strategy``:

- ``ppo``: the controller (controller.py) samples a minibatch of ``batch_size`` (normal,
  reduction) cell pairs, ChildPool trains them (``common.spaces.nasnet.child``), PPO updates
  the controller from their validation accuracies; until ``num_children`` were sampled.
- ``random``: the same loop with every decision drawn uniformly (Sect. 3) and no update.

An architecture sampled twice is trained once (ChildPool's cache; ``cached`` in its record)
and both samples still enter the controller's minibatch. The best architecture is the one with
the highest child validation accuracy (held-out training images, App. A.1).
"""

from __future__ import annotations

import functools
import time

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from common.errors import NasReproError, choices_error
from common.evaluators.child_pool import ChildPool
from common.results.record import RunResult
from common.spaces.nasnet.cell import SPACES
from common.spaces.nasnet.child import arch_key, train_child
from reproductions.nasnet.controller import (
    PPOTrainer,
    decision_sizes,
    decode,
    make_controller,
    uniform_decisions,
)

STRATEGIES = ("ppo", "random")
CURVE_GROUP = "nasnet_nasnet-space_cifar10-jpeg"
LABELS = {"ppo": "NASNet (PPO controller)", "random": "random search"}


def run(cfg: DictConfig, logger) -> RunResult:  # noqa: ANN001 - RunLogger
    if cfg.get("torch_threads"):
        torch.set_num_threads(int(cfg.torch_threads))
    s = cfg.search
    if s.strategy not in STRATEGIES:
        raise choices_error("search.strategy", s.strategy, STRATEGIES)
    if s.space not in SPACES:
        raise choices_error("search.space", s.space, tuple(SPACES))
    space = SPACES[s.space]
    num_blocks, total, batch = int(s.num_blocks), int(s.num_children), int(s.batch_size)
    if min(num_blocks, total, batch) < 1:
        raise NasReproError("search.num_blocks, num_children and batch_size must be >= 1")
    data = OmegaConf.to_container(cfg.data, resolve=True)
    child = OmegaConf.to_container(s.child, resolve=True)
    fn = functools.partial(train_child, data=data, seed=int(cfg.seed), **child)
    pool = ChildPool(fn, key=arch_key, **OmegaConf.to_container(cfg.children, resolve=True))
    torch.manual_seed(int(cfg.seed))
    gen = torch.Generator().manual_seed(int(cfg.seed))
    rng = np.random.default_rng(int(cfg.seed))
    sizes = decision_sizes(num_blocks, space)
    policy = make_controller(num_blocks, space, int(s.controller.lstm_size))
    c = s.controller
    ppo = PPOTrainer(policy, c.lr, c.clip, c.entropy_weight, c.baseline_decay, int(c.ppo_epochs))
    children: list[dict] = []
    updates: list[dict] = []
    t0 = time.time()
    while len(children) < total:
        n = min(batch, total - len(children))
        if s.strategy == "ppo":
            with torch.no_grad():
                sample = policy.sample(n, generator=gen)
            decisions, old_log_prob = sample.decisions, sample.log_prob
        else:
            decisions = torch.as_tensor(uniform_decisions(sizes, n, rng))
        archs = [decode(row.tolist(), num_blocks, space) for row in decisions]
        results = pool.map(archs)
        for (normal, reduction), r in zip(archs, results):
            children.append(
                {
                    "index": len(children),
                    "arch": f"normal: {normal} | reduction: {reduction}",
                    "update": len(updates),
                    **r,
                }
            )
            logger.log({"reward": r["reward"]}, step=len(children))
        if s.strategy == "ppo":
            stats = ppo.update(decisions, old_log_prob, [r["reward"] / 100.0 for r in results])
            updates.append({"children": len(children), **stats})
            logger.log({f"ppo/{k}": v for k, v in stats.items()}, step=len(children))
    best = max(children, key=lambda x: x["reward"])
    rewards = [x["reward"] for x in children]
    half = len(rewards) // 2
    metrics = {
        "best_val_acc": [best["reward"]],
        "mean_val_acc_second_half": [float(np.mean(rewards[half:]))],
        "mean_val_acc_top5": [float(np.mean(sorted(rewards)[-5:]))],
        "children_trained": [float(pool.num_trained)],
    }
    return RunResult(
        metrics=metrics,
        data_variant=f"{cfg.data.get('_target_', '').rsplit('.', 1)[-1]} (child validation "
        f"split: {cfg.data.val_fraction} of the training images)",
        protocol={
            "strategy": s.strategy,
            "space": space.name,
            "num_blocks": num_blocks,
            "num_children": total,
            "batch_size": batch,
            "child": child,
            "controller": OmegaConf.to_container(s.controller, resolve=True),
            "selection": "best child validation accuracy (held-out training images)",
        },
        diagnostics={
            "children": children,
            "curve_group": CURVE_GROUP,
            "curve_label": LABELS[s.strategy],
            "best_arch": best["arch"],
            "ppo_updates": updates,
        },
        cost={
            "wall_s": time.time() - t0,
            "children_sampled": len(children),
            "children_trained": pool.num_trained,
            "child_cost_s": sum(x["cost_s"] for x in children),
        },
    )
