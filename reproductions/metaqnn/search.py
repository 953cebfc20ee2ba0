"""The MetaQNN search loop (Baker et al., ICLR 2017, Sect. 4.3, Table 2, Fig. 3).

For each (epsilon, number of models) of the schedule, the agent samples networks
epsilon-greedily until that many *unique* networks have been trained at that epsilon (Table 2:
"the learning agent trains the specified number of unique models at each epsilon"). A network
sampled again is not retrained: its first accuracy is handed back (the replay dictionary, Sect.
4.3), it is listed once more in the replay list, and the agent replays as after any model
(q_server.py ``generate_new_netork`` / ``incorporate_trained_net`` @a25847f).

Children are trained through ``ChildPool`` (``children`` config group). With one worker the
loop is the paper's sequential one; with ``w`` workers the agent samples ``w`` new networks
from the same Q-values before their accuracies come back, as the paper's 10 GPUs did. The run
records every sample in order (``diagnostics.children``, with its epsilon), the mean accuracy
of the unique models per epsilon band and the rolling mean over samples (Fig. 3). The best
child is picked on validation; the test accuracy reported is that of the picked child only.
A run with the schedule [[1.0, N]] is random search at the same budget of N trained networks.
"""

from __future__ import annotations

import functools
import time

import numpy as np
from omegaconf import DictConfig, OmegaConf

from common.errors import NasReproError
from common.evaluators.child_pool import ChildPool
from common.results.logging import RunLogger
from common.results.record import RunResult
from reproductions.metaqnn.child import load_tensors, train_child
from reproductions.metaqnn.qlearning import QLearner
from reproductions.metaqnn.space import Arch, MetaQNNSpace


def make_space(cfg: DictConfig) -> MetaQNNSpace:
    s = OmegaConf.to_container(cfg, resolve=True)
    return MetaQNNSpace(
        **{
            **s,
            "conv_filters": tuple(s["conv_filters"]),
            "conv_sizes": tuple(s["conv_sizes"]),
            "pool_sizes": tuple(tuple(p) for p in s["pool_sizes"]),
            "fc_sizes": tuple(s["fc_sizes"]),
        }
    )


def band_summary(children: list[dict], schedule: list[list[float]]) -> list[dict]:
    """Per epsilon: the networks first sampled there (``repeat`` false) and their mean reward,
    and the mean over every sample (repeats included)."""
    out = []
    for epsilon, _ in schedule:
        band = [c for c in children if c["epsilon"] == epsilon]
        fresh = [c["reward"] for c in band if not c["repeat"]]
        out.append(
            {
                "epsilon": epsilon,
                "unique": len(fresh),
                "samples": len(band),
                "mean_val_acc": float(np.mean(fresh)) if fresh else float("nan"),
                "mean_val_acc_samples": float(np.mean([c["reward"] for c in band]))
                if band
                else float("nan"),
            }
        )
    return out


def rolling_mean(values: list[float], window: int) -> list[float]:
    """Fig. 3's blue line: the mean of the last ``window`` samples (fewer at the start)."""
    c = np.cumsum([0.0, *values])
    return [
        float((c[i + 1] - c[max(0, i + 1 - window)]) / min(window, i + 1))
        for i in range(len(values))
    ]


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    space = make_space(cfg.space)
    schedule = [list(map(float, row)) for row in cfg.schedule]
    agent = QLearner(space, np.random.default_rng(cfg.seed), **cfg.qlearning)
    child_cfg = OmegaConf.to_container(cfg.child, resolve=True)
    data_cfg = OmegaConf.to_container(cfg.data, resolve=True)
    fn = functools.partial(train_child, data=data_cfg, seed=cfg.seed, **child_cfg)
    pool = ChildPool(fn, key=str, **OmegaConf.to_container(cfg.children, resolve=True))
    max_samples = cfg.search.max_samples_per_model * sum(int(n) for _, n in schedule)
    children: list[dict] = []
    seen: set[str] = set()  # networks this run has sampled (a resumed run's cache is not "seen")
    start = time.perf_counter()

    def incorporate(arch: Arch, result: dict, epsilon: float) -> None:
        entry = {"index": len(children), "arch": str(arch), "epsilon": epsilon, **result}
        entry.pop("val_curve", None)
        entry["repeat"] = any(c["arch"] == entry["arch"] for c in children)
        children.append(entry)
        agent.remember(arch, result["reward"] / 100.0)  # the reward is an accuracy in [0, 1]
        logger.log(
            {"search/val_acc": result["reward"], "search/epsilon": epsilon}, step=len(children)
        )

    for epsilon, quota in schedule:
        trained = 0
        while trained < quota:
            batch: list[Arch] = []
            new: set[str] = set()
            while len(new) < min(pool.workers, int(quota) - trained):
                if len(children) + len(batch) >= max_samples:
                    raise NasReproError(
                        f"{max_samples} samples drew only {len(seen)} unique networks: the"
                        " space is too small for the schedule; enlarge it or shorten the schedule"
                    )
                arch = agent.sample(epsilon)
                key = str(arch)
                if key in new:  # again in this batch: trained once, incorporated twice
                    batch.append(arch)
                elif key in seen:  # trained before: its accuracy comes back at once
                    incorporate(arch, pool.map([key])[0], epsilon)
                else:
                    seen.add(key)
                    new.add(key)
                    batch.append(arch)
            for arch, result in zip(batch, pool.map([str(a) for a in batch]), strict=True):
                incorporate(arch, result, epsilon)
            trained += len(new)
    search_s = time.perf_counter() - start

    unique = [c for c in children if not c["repeat"]]
    best = max(unique, key=lambda c: c["reward"])  # picked on validation accuracy only
    final = train_child(best["arch"], data_cfg, seed=cfg.seed, with_test=True, **child_cfg)
    bands = band_summary(children, schedule)
    rewards = [c["reward"] for c in children]
    metrics = {
        "best_val_acc": [best["reward"]],
        "test_acc": [final["test_acc"]],
        **{f"mean_val_acc_eps{b['epsilon']:.1f}": [b["mean_val_acc"]] for b in bands},
    }
    return RunResult(
        metrics=metrics,
        data_variant=load_tensors(data_cfg)[-1].data_variant,
        protocol={
            "schedule": schedule,
            "budget": "unique networks trained per epsilon (Table 2)",
            "child_epochs": child_cfg["epochs"],
            "selection": "highest best-epoch validation accuracy among the trained children",
            "final_metric": "test accuracy of the picked child, retrained with its own seed",
            "selected_arch": best["arch"],
            "children_executor": cfg.children.executor,
            "children_workers": cfg.children.workers,
        },
        diagnostics={
            "children": children,
            "curve_group": cfg.search.curve_group,
            "curve_label": cfg.search.curve_label,
            "epsilon_bands": bands,
            "rolling_window": cfg.search.rolling_window,
            "rolling_mean": rolling_mean(rewards, cfg.search.rolling_window),
            "selected_val_acc_rerun": final["reward"],
            "q_states": len(agent.q),
        },
        cost={
            "children_trained": pool.num_trained,
            "children_sampled": len(children),
            "children_training_s": float(sum(c["cost_s"] for c in children)),
            "search_wall_s": search_s,
            "params_selected": final["params"],
        },
    )
