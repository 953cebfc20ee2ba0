"""NASNet's search with trained children (Zoph et al., CVPR 2018, Sect. 3-4.4, App. A), and
random search of equal cost (Sect. 4.4, Fig. 6: the same number of sampled architectures).

``run(cfg, logger)`` with ``search.strategy``:

- ``ppo``: the controller (controller.py) samples a minibatch of ``batch_size`` (normal,
  reduction) cell pairs, ChildPool trains them (``common.spaces.nasnet.child``), PPO updates
  the controller from their validation accuracies; until ``num_children`` were sampled.
- ``random``: the same loop with every decision drawn uniformly (Sect. 3) and no update.

An architecture sampled twice is trained once (ChildPool's cache; ``cached`` in its record)
and both samples still enter the controller's minibatch. The best architecture is the one with
the highest child validation accuracy (held-out training images, App. A.1); the run writes it
into its folder as ``cell.json`` and names it in ``protocol.found``, which
``nasnet_nasnet-space_cifar10-jpeg_retrain_reduced`` retrains (``genotype=<either>``).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from common.errors import NasReproError
from common.results.record import RunResult
from common.spaces.nasnet.child import train_child
from common.spaces.nasnet.found import arch_text
from common.spaces.nasnet.search_run import checked_space, child_pool, search_result
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
    s = cfg.search
    space = checked_space(s, STRATEGIES)
    num_blocks, total, batch = int(s.num_blocks), int(s.num_children), int(s.batch_size)
    if min(num_blocks, total, batch) < 1:
        raise NasReproError("search.num_blocks, num_children and batch_size must be >= 1")
    pool = child_pool(cfg, train_child)
    torch.manual_seed(int(cfg.seed))
    gen = torch.Generator().manual_seed(int(cfg.seed))
    rng = np.random.default_rng(int(cfg.seed))
    sizes = decision_sizes(num_blocks, space)
    policy = make_controller(num_blocks, space, int(s.controller.lstm_size))
    c = s.controller
    ppo = PPOTrainer(policy, c.lr, c.clip, c.entropy_weight, c.baseline_decay, int(c.ppo_epochs))
    children: list[dict] = []
    sampled: list = []
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
        for arch, r in zip(archs, results):
            children.append(
                {"index": len(children), "arch": arch_text(arch), "update": len(updates), **r}
            )
            sampled.append(arch)
            logger.log({"reward": r["reward"]}, step=len(children))
        if s.strategy == "ppo":
            stats = ppo.update(decisions, old_log_prob, [r["reward"] / 100.0 for r in results])
            updates.append({"children": len(children), **stats})
            logger.log({f"ppo/{k}": v for k, v in stats.items()}, step=len(children))
    rewards = [x["reward"] for x in children]
    half = len(rewards) // 2
    return search_result(
        cfg,
        logger,
        archs=sampled,
        children=children,
        pool=pool,
        started=t0,
        curve_group=CURVE_GROUP,
        curve_label=LABELS[s.strategy],
        metrics={
            "mean_val_acc_second_half": [float(np.mean(rewards[half:]))],
            "mean_val_acc_top5": [float(np.mean(sorted(rewards)[-5:]))],
        },
        protocol={
            "num_blocks": num_blocks,
            "num_children": total,
            "batch_size": batch,
            "controller": OmegaConf.to_container(s.controller, resolve=True),
        },
        diagnostics={"ppo_updates": updates},
        cost={"children_sampled": len(children)},
    )
