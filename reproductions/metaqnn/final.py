"""MetaQNN after the search: the top ten networks trained longer, the top model and the
ensemble of five (Baker et al., ICLR 2017, Sect. 5 and Tables 3-4).

Sect. 5: "After the agent completed the epsilon schedule (Table 2), we selected the top ten
models that were found over the course of exploration. These models were then finetuned using
a much longer training schedule, and only the top five were used for ensembling." Table 3
reports the top model's and the five-model ensemble's test error. For MNIST, the final scheme
trains each model 40 epochs with the learning rate x0.2 every 5 epochs, everything else as in
exploration.

``run`` reads a MetaQNN search's record (``search_record=``), takes its ten unique networks of
highest validation accuracy (ties: the earlier sampled), trains each from scratch with the
``final`` schedule through the child engine (``children=inline|local|slurm``: the ten are
independent), and then:

- the top model is the one of highest validation accuracy after this training; its test
  accuracy is ``test_acc``;
- the ensemble is the five of highest validation accuracy after this training; their softmax
  outputs are averaged (a committee; the paper does not say how it combined them), giving
  ``ensemble_val_acc`` and ``ensemble_test_acc``.

Nothing is selected on the test split: the paper's CIFAR-10 final training ran on the whole
training set and does not say what picked its top model; here the search's validation split
stays held out and picks both (README, deviations). Each network's weights are those of its
best validation epoch, as in the search's own children.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from common.errors import NasReproError
from common.evaluators.child_pool import ChildPool
from common.results.logging import RunLogger
from common.results.record import RunResult, load_search_record
from reproductions.metaqnn.child import load_tensors, train_child

HINT = (
    "a MetaQNN search's run record, e.g."
    " results/metaqnn/metaqnn_metaqnn-space_digits_reduced__seed0.json"
)


def load_search(path: str | Path) -> dict[str, Any]:
    """The record of a MetaQNN search (stage ``search``, every sampled child listed)."""
    return load_search_record(path, "metaqnn", "children", "a MetaQNN search record", HINT)


def top_networks(children: list[dict], k: int) -> list[dict]:
    """The ``k`` unique networks of highest validation accuracy (ties: the earlier sampled)."""
    first: dict[str, dict] = {}
    for child in children:
        first.setdefault(child["arch"], child)
    ranked = sorted(first.values(), key=lambda c: (-c["reward"], c["index"]))
    return ranked[:k]


def check_same_setting(record: dict, cfg: DictConfig) -> None:
    """The networks must be trained on the data and state space their search used."""
    searched = record.get("config") or {}
    ours = OmegaConf.to_container(cfg, resolve=True)
    for key in ("space", "data"):
        theirs, mine = searched.get(key), ours.get(key)
        if key == "data":  # the images and the split, not loader settings
            theirs, mine = _split_of(theirs or {}), _split_of(mine or {})
        if theirs != mine:
            raise NasReproError(
                f"search_record={cfg.search_record}: its search ran with another {key} ({theirs})"
                f" than experiment {cfg.experiment_name!r} ({mine}); give the record of a search"
                f" with the same {key}, or an experiment that matches it"
            )


def _split_of(data: dict) -> dict:
    keep = ("_target_", "split", "val_fraction", "max_train_samples")
    split_seed = data.get("split_seed")
    return {
        **{k: data.get(k) for k in keep},
        "split_seed": data.get("seed") if split_seed is None else split_seed,
    }


def ensemble_accuracy(probs: list[list[list[float]]], labels: torch.Tensor) -> float:
    """Accuracy (%) of the averaged softmax outputs of several networks."""
    mean = torch.tensor(np.mean(np.asarray(probs, dtype=np.float64), axis=0))
    return 100.0 * float((mean.argmax(1) == labels).double().mean())


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    record = load_search(cfg.search_record)
    check_same_setting(record, cfg)
    f = cfg.final
    if not 1 <= int(f.ensemble) <= int(f.top_k):
        raise NasReproError(f"final.ensemble={f.ensemble}: between 1 and final.top_k ({f.top_k})")
    picked = top_networks(record["diagnostics"]["children"], int(f.top_k))
    child_cfg = {
        **OmegaConf.to_container(cfg.child, resolve=True),
        **OmegaConf.to_container(f.child, resolve=True),
    }
    data_cfg = OmegaConf.to_container(cfg.data, resolve=True)
    fn = functools.partial(train_child, data=data_cfg, seed=cfg.seed, with_probs=True, **child_cfg)
    pool = ChildPool(fn, key=str, **OmegaConf.to_container(cfg.children, resolve=True))
    start = time.perf_counter()
    results = pool.map([c["arch"] for c in picked])
    train_s = time.perf_counter() - start

    networks = []
    for rank, (child, res) in enumerate(zip(picked, results, strict=True)):
        networks.append(
            {
                "search_rank": rank,
                "arch": child["arch"],
                "search_val_acc": child["reward"],
                "val_acc": res["reward"],
                "val_curve": res["val_curve"],
                "restarts": res["restarts"],
                "params": res["params"],
                "cost_s": res["cost_s"],
            }
        )
        logger.log({"final/val_acc": res["reward"]}, step=rank)
    order = sorted(range(len(picked)), key=lambda i: (-results[i]["reward"], i))
    top, members = order[0], order[: int(f.ensemble)]
    _, _, _, y_val, _, y_test, dm = load_tensors(data_cfg)
    ens_val = ensemble_accuracy([results[i]["val_probs"] for i in members], y_val)
    ens_test = ensemble_accuracy([results[i]["test_probs"] for i in members], y_test)
    return RunResult(
        metrics={  # a single network's accuracy is that of its own probabilities
            "test_acc": [ensemble_accuracy([results[top]["test_probs"]], y_test)],
            "val_acc": [results[top]["reward"]],
            "ensemble_test_acc": [ens_test],
            "ensemble_val_acc": [ens_val],
        },
        data_variant=dm.data_variant,
        protocol={
            "search": record.get("experiment"),
            "search_record": str(cfg.search_record),
            "search_seed": record.get("seed"),
            "search_commit": record.get("git_commit"),
            "top_k": int(f.top_k),
            "ensemble": int(f.ensemble),
            "final_child": child_cfg,
            "selection": (
                "the search's top_k unique networks by validation accuracy; after the final"
                " training, the top model and the ensemble members by validation accuracy;"
                " test read once for the top model and once for the ensemble"
            ),
            "ensemble_rule": "mean of the members' softmax outputs",
            "top_model": networks[top]["arch"],
            "ensemble_members": [networks[i]["arch"] for i in members],
        },
        diagnostics={"networks": networks},
        cost={
            "networks_trained": pool.num_trained,
            "training_s": float(sum(n["cost_s"] for n in networks)),
            "final_wall_s": train_s,
            "params_top_model": networks[top]["params"],
        },
    )
