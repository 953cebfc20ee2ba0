"""What NASNet's and PNAS's searches with trained children share (``reproductions/nasnet`` and
``reproductions/pnas`` ``search_task.py``): the checked strategy and space, the pool that
trains children, and the run record with the found architecture handed to the retrain.

``child_pool(cfg, train)`` wraps ``train`` (``common.spaces.nasnet.child.train_child``, which
each task passes in so that its tests can swap it) with the run's data, seed and
``search.child`` settings in a ``ChildPool``. ``search_result`` picks the child with the highest
validation accuracy (held-out training images; first of equals), writes it into the run folder
as ``cell.json`` (``common.spaces.nasnet.found``) and returns the record: ``protocol.found`` (the
architecture as text), ``protocol.artefact`` (the cell file) and the record contract's
``diagnostics.children``, ``curve_group`` and ``curve_label``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from common.errors import choices_error
from common.evaluators.child_pool import ChildPool
from common.results.record import RunResult
from common.spaces.nasnet.cell import SPACES, Space
from common.spaces.nasnet.child import Arch, arch_key
from common.spaces.nasnet.found import CELL_FILE, arch_text, write_cell_file


def checked_space(search: DictConfig, strategies: Sequence[str]) -> Space:
    """The space ``search.space`` names, once ``search.strategy`` is one of ``strategies``."""
    if search.strategy not in strategies:
        raise choices_error("search.strategy", search.strategy, tuple(strategies))
    if search.space not in SPACES:
        raise choices_error("search.space", search.space, tuple(SPACES))
    return SPACES[search.space]


def child_pool(cfg: DictConfig, train: Callable[..., dict]) -> ChildPool:
    """The pool that trains every child of the run (``cfg.children``: executor, workers)."""
    if cfg.get("torch_threads"):
        torch.set_num_threads(int(cfg.torch_threads))
    data = OmegaConf.to_container(cfg.data, resolve=True)
    child = OmegaConf.to_container(cfg.search.child, resolve=True)
    fn = functools.partial(train, data=data, seed=int(cfg.seed), **child)
    return ChildPool(fn, key=arch_key, **OmegaConf.to_container(cfg.children, resolve=True))


def search_result(
    cfg: DictConfig,
    logger: Any,
    *,
    archs: Sequence[Arch],
    children: list[dict],
    pool: ChildPool,
    started: float,
    curve_group: str,
    curve_label: str,
    metrics: dict[str, list[float]] | None = None,
    protocol: dict[str, Any] | None = None,
    diagnostics: dict[str, Any] | None = None,
    cost: dict[str, Any] | None = None,
) -> RunResult:
    """The record of a search whose ``children[i]`` trained ``archs[i]``."""
    i = max(range(len(children)), key=lambda j: children[j]["reward"])
    best, arch = children[i], archs[i]
    found: dict[str, Any] = {"found": arch_text(arch)}
    run_dir = getattr(logger, "run_dir", None)
    if run_dir is not None:
        path = write_cell_file(
            arch,
            Path(run_dir) / CELL_FILE,
            experiment=cfg.experiment_name,
            seed=int(cfg.seed),
            strategy=cfg.search.strategy,
            search_best_val_acc=best["reward"],
        )
        found["artefact"] = str(path)
    return RunResult(
        metrics={
            "best_val_acc": [best["reward"]],
            **(metrics or {}),
            "children_trained": [float(pool.num_trained)],
        },
        data_variant=f"{cfg.data.get('_target_', '').rsplit('.', 1)[-1]} (child validation "
        f"split: {cfg.data.val_fraction} of the training images)",
        protocol={
            "strategy": cfg.search.strategy,
            "space": cfg.search.space,
            **(protocol or {}),
            "child": OmegaConf.to_container(cfg.search.child, resolve=True),
            "selection": "best child validation accuracy (held-out training images)",
            **found,
        },
        diagnostics={
            "children": children,
            "curve_group": curve_group,
            "curve_label": curve_label,
            "best_arch": best["arch"],
            **(diagnostics or {}),
        },
        cost={
            "wall_s": time.time() - started,
            "children_trained": pool.num_trained,
            "child_cost_s": sum(c["cost_s"] for c in children),
            **(cost or {}),
        },
    )
