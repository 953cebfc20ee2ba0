"""The one-shot stage shared by SPOS and FairNAS (and any single-path weight-sharing method):
train a single-path supernet (``cfg.supernet``: network, sampler, optimiser) on one half of a
search split while recording its ranking curve (``common.protocols.ranking``), search it with
inherited weights after batch-norm recalibration on the other half, and report the found
architecture's benchmark accuracies and the trained supernet's ranking statistics.
"""

from __future__ import annotations

import functools
import math
import random
import time
from pathlib import Path as FilePath
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn

from common.data.base import ArrayDataset
from common.data.transforms import eval_transform
from common.data.views import TrainHalf
from common.errors import NasReproError
from common.evaluators.inherited import InheritedWeightsEvaluator
from common.protocols.ranking import RankingCurve, ranking_report, ranking_sample
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.speed import Speed
from common.training.fit import fit
from common.training.single_path import PathSpace, SinglePathSupernetModule


class _OnDevice:
    """Fixed batches, moved to the supernet's current device whenever they are iterated."""

    def __init__(self, batches: list[tuple[torch.Tensor, torch.Tensor]], net: nn.Module) -> None:
        self.batches, self.net = batches, net

    def __iter__(self):
        device = next(self.net.parameters()).device
        return ((x.to(device), y.to(device)) for x, y in self.batches)


def fixed_batches(dataset: Any, num: int, batch_size: int, seed: int) -> list[tuple[Any, Any]]:
    """``num`` batches of a seeded random subset of ``dataset``, drawn (and augmented, if its
    transform augments) once: every architecture is scored on the same images."""
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    items = [dataset[int(i)] for i in order[: num * batch_size]]
    return [
        (
            torch.stack([x for x, _ in items[k : k + batch_size]]),
            torch.tensor([y for _, y in items[k : k + batch_size]]),
        )
        for k in range(0, len(items), batch_size)
    ]


def _anchor(spec: Any, archs: list[Any], truth: list[float], report: dict) -> dict | None:
    """The ranking of released supernet scores (``spec.path``, column ``spec.column`` keyed by
    ``str(arch)`` in ``spec.key``) on the same architectures and ground truth."""
    if not spec:
        return None
    import pandas as pd

    path = FilePath(str(spec.path)).expanduser()
    if not path.is_file():
        return {"name": spec.name, "missing": str(path)}
    table = pd.read_csv(path)
    score = dict(zip(table[spec.key].astype(str), table[spec.column].astype(float), strict=True))
    mine = [score.get(str(a), math.nan) for a in archs]
    if any(math.isnan(v) for v in mine):
        return {"name": spec.name, "missing": "architectures absent from the file"}
    return {
        "name": spec.name,
        "path": str(path),
        "column": spec.column,
        **ranking_report(mine, truth, **report),
    }


def one_shot_search(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """SPOS / FairNAS end to end on a benchmark space: train the supernet (``cfg.supernet``:
    network, sampler, optimiser) on one half of the search split, scoring ``cfg.ranking``'s
    architectures every few epochs; search (``cfg.search``) with inherited weights after
    batch-norm recalibration (``cfg.evaluation``, on the other half); report the found
    architecture's table accuracies (``report_columns``). Supernet accuracies and search scores
    are diagnostics; the ranking statistics of the trained supernet are final metrics."""
    run_epochs = cfg.supernet.get("run_epochs") or cfg.supernet.epochs
    if cfg.record.canonical and run_epochs != cfg.supernet.epochs:
        raise NasReproError(
            "record.canonical=true needs the full schedule: drop supernet.run_epochs"
        )
    data = instantiate(cfg.data)
    if data.split != "search":
        raise NasReproError(f"a one-shot search needs data.split=search, got {data.split!r}")
    data.setup("fit")
    bench = instantiate(cfg.benchmark)
    net = instantiate(
        cfg.supernet.network, num_classes=data.num_classes, in_channels=data.in_channels
    )
    column = cfg.space.get("cost_column")
    space = PathSpace.of(
        net.mixer,
        instantiate(cfg.space.to_arch),
        instantiate(cfg.space.from_arch),
        functools.partial(bench.value, column=column) if column else None,
    )
    sampler = instantiate(cfg.supernet.sampler, _partial_=True)(space)
    optim = OmegaConf.to_container(cfg.supernet.optim, resolve=True)
    speed = Speed.from_cfg(cfg.get("speed"))
    module = SinglePathSupernetModule(
        net, sampler, cfg.supernet.epochs, seed=cfg.seed, speed=speed, **optim
    )

    ev = cfg.evaluation
    val_set = data.val_set
    val_eval = ArrayDataset(
        val_set.images,
        val_set.labels,
        val_set.indices,
        eval_transform(data.mean, data.std),
        val_set.max_value,
    )
    bn = _OnDevice(fixed_batches(data.train_set, ev.bn_batches, ev.batch_size, cfg.seed), net)
    val = _OnDevice(fixed_batches(val_eval, ev.val_batches, ev.batch_size, cfg.seed + 1), net)

    rk = cfg.ranking
    report = {"top_fraction": rk.top_fraction, "num_boot": rk.num_boot, "seed": rk.seed}
    archs = [space.to_arch(p) for p in ranking_sample(space, rk.num_archs, rk.seed)]
    truth = [bench.value(a, rk.truth) for a in archs]
    ranker = InheritedWeightsEvaluator(net, space.mask, bn, val)
    curve = RankingCurve(
        lambda a: ranker.evaluate(a).score, archs, truth, rk.every, report, logger.log
    )

    start = time.perf_counter()
    fit(module, TrainHalf(data), cfg.trainer, run_epochs, logger, callbacks=[curve])
    fit_s = time.perf_counter() - start
    if torch.cuda.is_available() and cfg.trainer.accelerator in ("auto", "gpu", "cuda"):
        net.cuda()
    searcher = InheritedWeightsEvaluator(net, space.mask, bn, val)
    search = instantiate(cfg.search)
    result = search(
        score=lambda p: searcher.evaluate(space.to_arch(p)).score,
        space=space,
        rng=random.Random(cfg.seed),
    )
    found = space.to_arch(result.best)

    final = curve.history[-1]
    metrics = {c: [bench.value(found, c)] for c in cfg.report_columns}
    metrics.update({f"ranking_{k}": [final[k]] for k in ("kendall_tau", "spearman", "p_at_top")})
    extra = dict(result.extra)
    if "final_front" in extra:
        extra["final_front"] = [
            {**d, "path": list(d["path"]), "truth": bench.value(space.to_arch(d["path"]), rk.truth)}
            for d in extra["final_front"]
        ]
    ranking_s = sum(h["wall_s"] for h in curve.history)
    truth_of = cfg.get("truth_source") or "200 epochs"  # what the table's accuracies are
    return RunResult(
        metrics=metrics,
        data_variant=f"{data.data_variant}; accuracies from {cfg.benchmark.variant} ({truth_of})",
        protocol={
            "found": str(found),
            "sampler": OmegaConf.to_container(cfg.supernet.sampler, resolve=True),
            "supernet": {
                k: OmegaConf.to_container(cfg.supernet[k], resolve=True)
                for k in ("network", "optim")
            },
            "search": OmegaConf.to_container(cfg.search, resolve=True),
            "evaluation": OmegaConf.to_container(ev, resolve=True),
            "ranking": {**OmegaConf.to_container(rk, resolve=True), "n_archs": len(archs)},
            "data": data.record(),
            "final_metric_source": (
                f"{cfg.benchmark.variant} table ({truth_of}); ranking_* against {rk.truth}"
            ),
        },
        diagnostics={
            "found_supernet_score": result.evaluated[result.best],
            "ranking_curve": curve.history,
            "ranking_final_scores": {  # the last point's per-architecture scores (scatter plots)
                "archs": [str(a) for a in archs],
                "truth": truth,
                "supernet_score": curve.last_scores,
            },
            "ranking_anchor": _anchor(rk.get("anchor"), archs, truth, report),
            "supernet_epochs": module.history,
            "choice_counts": module.counts_table(),
            "search_history": result.history,
            "search_extra": extra,
        },
        cost={
            "supernet_epochs_run": len(module.history),
            "supernet_epochs_schedule": cfg.supernet.epochs,
            "path_steps": module.path_steps,
            "updates": module.updates,
            "supernet_train_s": fit_s - ranking_s,
            "ranking_s": ranking_s,  # measuring the supernet, not part of the method's cost
            "search_s": searcher.spent_s,
            "search_cost_s": fit_s - ranking_s + searcher.spent_s,  # supernet + search
            "search_evaluations": result.num_evaluations,
            "epoch_wall_s": [h["epoch_wall_s"] for h in module.history],
        },
    )
