"""The one-shot stage at ImageNet scale, shared by SPOS (Guo et al., ECCV 2020; official code
megvii-model/SinglePathOneShot @36eed6c, ``src/Supernet/train.py``, ``src/Search/``) and FairNAS
(Chu, Zhang & Xu, ICCV 2021): train a single-path supernet for a number of iterations on the
training set less a held-out part, search it with inherited weights after batch-norm
recalibration, and write the found architecture (``found_arch.json``) for the retrain stage
(``common.protocols.imagenet_retrain``).

It differs from the benchmark one-shot stage (``common.protocols.one_shot``) where ImageNet does:
there is no ground-truth table (no ranking curve; the found network's accuracy is the retrain's),
the schedule counts iterations (SPOS: 150,000 of batch 1,024) rather than epochs, the evaluation
batches stream from disk in a fixed order rather than sitting in memory, and a path's cost is
counted, not looked up: ``PathMacs`` counts every block once with torch's own counter
(``torch.utils.flop_counter``) and adds up a path's blocks, as the official ``get_cand_flops``
adds up its table (``Supernet/flops.py``). Multiply-adds of convolutions and linear layers, the
classifier included, at 224 x 224: the unit of SPOS's "323M FLOPs" and FairNAS's "388M
multiply-adds" (reproductions/{spos,fairnas}/models.py).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from common.data.views import TrainHalf
from common.errors import NasReproError
from common.evaluators.inherited import InheritedWeightsEvaluator
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.speed import Speed
from common.training.fit import fit
from common.training.single_path import PathSpace, SinglePathSupernetModule

FOUND_FILE = "found_arch.json"


def count_macs(module: nn.Module, x: torch.Tensor) -> int:
    """Multiply-adds of one forward of ``module`` on ``x``: torch's FLOP counter counts two
    FLOPs per multiply-add of convolutions and matrix products (batch norm, activations, pooling
    and additions count nothing, as in the official counters)."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(x)
    return int(counter.get_total_flops()) // 2


class PathMacs:
    """Millions of multiply-adds of every path of a chain supernet (``.layers[i][op]``, one
    ``SinglePathMixer`` edge per layer), from one count per (layer, op) and one of the rest.

    The supernet is left in the mode and on the path it was in; counting runs in eval mode, so
    no batch-norm statistic moves."""

    def __init__(self, supernet: nn.Module, input_size: int = 224, in_channels: int = 3) -> None:
        mixer, layers = supernet.mixer, supernet.layers
        ops, training, choice = mixer.ops, supernet.training, mixer.choice()
        device = next(supernet.parameters()).device
        shapes: dict[int, torch.Size] = {}
        hooks = [
            layer[ops[0]].register_forward_pre_hook(
                lambda _, args, i=i: shapes.__setitem__(i, args[0].shape)
            )
            for i, layer in enumerate(layers)
        ]
        try:
            supernet.eval()
            mixer.set_choice({t: (ops[0],) * mixer.num_edges for t in mixer.cell_types})
            x = torch.zeros(1, in_channels, input_size, input_size, device=device)
            total = count_macs(supernet, x)
            self.ops = tuple(ops)
            self.table = [
                [count_macs(layer[op], torch.zeros(shapes[i], device=device)) for op in ops]
                for i, layer in enumerate(layers)
            ]
        finally:
            for hook in hooks:
                hook.remove()
            mixer.set_choice(choice)
            supernet.train(training)
        self.fixed = total - sum(row[0] for row in self.table)  # stem, head, classifier
        self.index = {op: k for k, op in enumerate(self.ops)}

    def __call__(self, path: Sequence[str]) -> float:
        macs = self.fixed + sum(row[self.index[op]] for row, op in zip(self.table, path))
        return macs / 1e6


class _OnDevice:
    """A loader whose batches move to the supernet's current device whenever it is iterated."""

    def __init__(self, loader: Iterable, net: nn.Module) -> None:
        self.loader, self.net = loader, net

    def __iter__(self):
        device = next(self.net.parameters()).device
        return ((x.to(device), y.to(device)) for x, y in self.loader)


def trainer_steps(trainer_cfg: Mapping[str, Any], iterations: int) -> tuple[dict, int]:
    """The Trainer arguments without ``max_steps``, and the steps to run: the schedule's
    ``iterations``, or fewer when the command line cuts the run short (``trainer.max_steps``,
    which the record then marks ``truncated_by``)."""
    args = (
        OmegaConf.to_container(trainer_cfg, resolve=True)
        if isinstance(trainer_cfg, DictConfig)
        else dict(trainer_cfg)
    )
    cut = args.pop("max_steps", None)
    return args, int(iterations if cut is None or cut < 0 else min(cut, iterations))


def write_found(path, space_name: str, arch: Any, mflops: float) -> None:
    """The found architecture as the retrain stage reads it (``load_arch``)."""
    path.write_text(
        json.dumps({"space": space_name, "choices": list(arch.choices), "mflops": mflops}) + "\n"
    )


def imagenet_one_shot(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Train the supernet (``cfg.supernet``: network, sampler, optimiser, ``iterations``) on the
    training part of the search split, search it (``cfg.search``) with inherited weights after
    batch-norm recalibration on training batches, scored on the held-out part
    (``cfg.evaluation``), and write ``found_arch.json``. The supernet's accuracies and the
    search scores are diagnostics; the found network's accuracy is its retrain's."""
    data = instantiate(cfg.data)
    if data.split != "search":
        raise NasReproError(
            f"an ImageNet one-shot search needs data.split=search, got {data.split!r}"
        )
    data.setup("fit")
    net = instantiate(cfg.supernet.network, num_classes=data.num_classes, in_channels=3)
    macs = PathMacs(net, cfg.space.cost_input_size)
    from_arch = instantiate(cfg.space.from_arch)
    space = PathSpace.of(
        net.mixer, instantiate(cfg.space.to_arch), from_arch, lambda a: macs(from_arch(a))
    )
    sampler = instantiate(cfg.supernet.sampler, _partial_=True)(space)
    iterations = int(cfg.supernet.iterations)
    steps_per_epoch = len(data.train_dataloader())
    optim = OmegaConf.to_container(cfg.supernet.optim, resolve=True)
    # the schedule runs over `iterations` optimiser steps: epochs = iterations / steps per epoch
    module = SinglePathSupernetModule(
        net,
        sampler,
        iterations / steps_per_epoch,
        seed=cfg.seed,
        speed=Speed.from_cfg(cfg.get("speed")),
        **optim,
    )
    trainer_args, steps = trainer_steps(cfg.trainer, iterations)
    start = time.perf_counter()
    fit(module, TrainHalf(data), trainer_args, -1, logger, max_steps=steps)
    fit_s = time.perf_counter() - start

    if torch.cuda.is_available() and cfg.trainer.accelerator in ("auto", "gpu", "cuda"):
        net.cuda()
    ev = cfg.evaluation
    bn = data.fixed_loader("train", ev.bn_batches, ev.bn_batch_size, cfg.seed)
    val = data.fixed_loader("val", ev.val_batches, ev.val_batch_size, cfg.seed + 1)
    searcher = InheritedWeightsEvaluator(net, space.mask, _OnDevice(bn, net), _OnDevice(val, net))
    result = instantiate(cfg.search)(
        score=lambda p: searcher.evaluate(space.to_arch(p)).score,
        space=space,
        rng=random.Random(cfg.seed),
    )
    found = space.to_arch(result.best)
    mflops = macs(result.best)
    write_found(logger.run_dir / FOUND_FILE, cfg.space.name, found, mflops)
    extra = dict(result.extra)
    if "final_front" in extra:
        extra["final_front"] = [{**d, "path": list(d["path"])} for d in extra["final_front"]]
    return RunResult(
        metrics={"found_mflops": [mflops]},
        data_variant=f"{data.data_variant}; found architecture only (accuracy: its retrain)",
        protocol={
            "found": list(found.choices),
            "found_file": str(logger.run_dir / FOUND_FILE),
            "space": cfg.space.name,
            "sampler": OmegaConf.to_container(cfg.supernet.sampler, resolve=True),
            "supernet": {
                **{
                    k: OmegaConf.to_container(cfg.supernet[k], resolve=True)
                    for k in ("network", "optim")
                },
                "iterations": iterations,
            },
            "search": OmegaConf.to_container(cfg.search, resolve=True),
            "evaluation": OmegaConf.to_container(ev, resolve=True),
            "cost_unit": f"M multiply-adds at {cfg.space.cost_input_size}x{cfg.space.cost_input_size}",
            "data": data.record(),
        },
        diagnostics={
            "found_supernet_score": result.evaluated[result.best],
            "supernet_epochs": module.history,
            "choice_counts": module.counts_table(),
            "sampler_timeouts": getattr(sampler, "timeouts", None),
            "search_history": result.history,
            "search_extra": extra,
        },
        cost={
            "iterations_run": module.updates,
            "iterations_schedule": iterations,
            "path_steps": module.path_steps,
            "supernet_train_s": fit_s,
            "search_s": searcher.spent_s,
            "search_cost_s": fit_s + searcher.spent_s,
            "search_evaluations": result.num_evaluations,
        },
    )
