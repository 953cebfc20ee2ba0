"""Train one NASNet-space child from scratch and score it by validation accuracy: the reward of
NASNet's controller (Zoph et al., CVPR 2018, App. A.1/A.6) and the label of PNAS's predictor.

``train_child(arch, **settings)`` is a top-level function with plain-data settings, so
``functools.partial(train_child, ...)`` is what ``common.evaluators.child_pool.ChildPool``
ships to a worker. ``arch`` is one ``Cell`` (PNAS's layout: one cell, strided at the
reductions) or a ``(normal, reduction)`` pair (NASNet's layout). The child:

- seeds itself from ``seed`` and a stable hash of the architecture (``child_seed``), so a
  result depends neither on the worker nor on the order in which a search asks;
- builds its data module from ``data`` (a mapping with ``_target_``, as ``conf/data`` gives;
  the split seed stays the run's, so every child sees the same held-out images; only the
  shuffling follows the child seed) and trains on its training part;
- reads its validation accuracy from the held-out part of the *training* images
  (``split=train_val``; NASNet App. A.1 holds out 5,000 training images), never the test split.

The paper's schedule (NASNet App. A.6: momentum 0.9, L2 weight decay, single-period cosine
decay, a fixed 20 epochs, N = 2) is what the settings default to apart from the epochs and
sizes; reduced experiments shrink ``epochs``, ``num_cells`` and ``num_conv_filters``. Ours
(not in the paper): the learning rate, the weight decay, no auxiliary head, no drop-path, a
plain loop instead of a Lightning Trainer (a second of overhead per child at this size).
"""

from __future__ import annotations

import json
import math
import time
import zlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

from common.errors import NasReproError
from common.spaces.nasnet.cell import Cell
from common.spaces.nasnet.model import NASNetwork, NetworkConfig, count_params

Arch = Cell | tuple[Cell, Cell]


def arch_key(arch: Arch) -> str:
    """Equal for two architectures exactly when their canonical forms are equal."""
    if isinstance(arch, Cell):
        return arch.key()
    normal, reduction = arch
    return f"normal={normal.key()} | reduction={reduction.key()}"


def child_seed(seed: int, arch: Arch) -> int:
    return (int(seed) * 1_000_003 + zlib.crc32(arch_key(arch).encode())) % 2**31


def build_network(arch: Arch, num_cells: int, num_conv_filters: int, **config: Any) -> NASNetwork:
    """The child network: PNAS layout for one cell, NASNet layout for a pair."""
    if isinstance(arch, Cell):
        cfg = NetworkConfig(num_cells, num_conv_filters, layout="pnas", **config)
        return NASNetwork(arch, None, cfg)
    if len(arch) != 2 or not all(isinstance(c, Cell) for c in arch):
        raise NasReproError("a NASNet child is one Cell or a (normal, reduction) pair of Cells")
    cfg = NetworkConfig(num_cells, num_conv_filters, layout="nasnet", **config)
    return NASNetwork(arch[0], arch[1], cfg)


@lru_cache(maxsize=4)
def _data(data_json: str):  # noqa: ANN202 - an ImageDataModule
    """The data module of ``data`` set up once per process (the images stay in memory)."""
    from hydra.utils import instantiate

    spec = json.loads(data_json)
    if spec.get("split") != "train_val":
        raise NasReproError(
            "a child's reward is its validation accuracy on held-out training images: "
            f"data.split must be train_val, got {spec.get('split')!r}"
        )
    module = instantiate(spec)
    module.setup()
    return module


def _shrink(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Average ``factor`` x ``factor`` pixels (a CPU-scale child sees 16x16 images at 2)."""
    return x if factor == 1 else nn.functional.avg_pool2d(x, factor)


def train_child(
    arch: Arch,
    *,
    data: Mapping[str, Any],
    seed: int = 0,
    epochs: float = 20,
    num_cells: int = 6,
    num_conv_filters: int = 32,
    stem_multiplier: float = 3.0,
    lr: float = 0.05,
    momentum: float = 0.9,
    weight_decay: float = 3e-4,
    grad_clip: float = 5.0,
    downsample: int = 1,
) -> dict[str, Any]:
    """Train ``arch`` for ``epochs`` (a fraction trains that share of one epoch's batches) and
    return ``{"reward": validation accuracy in %, ...}`` (JSON data, for the pool's cache).

    Defaults: NASNet App. A.6 (momentum 0.9, cosine, 20 epochs; N = 2 is ``num_cells=6`` in
    NASNet's layout, F = 32 is NASNet's CIFAR filters); lr, weight decay, clip: ours."""
    start = time.perf_counter()
    cpu0 = time.process_time()
    s = child_seed(seed, arch)
    module = _data(json.dumps(dict(data), sort_keys=True))
    torch.manual_seed(s)
    np.random.seed(s % 2**32)
    net = build_network(
        arch,
        num_cells,
        num_conv_filters,
        stem_multiplier=stem_multiplier,
        use_aux_head=False,
        num_classes=module.num_classes,
        image_size=module.image_size // downsample,
        in_chans=module.in_channels,
    )
    loader = torch.utils.data.DataLoader(
        module.train_set,
        batch_size=module.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(s),
    )
    steps = max(1, math.ceil(len(loader) * float(epochs)))
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    step, train_loss = 0, math.nan
    while step < steps:
        for x, y in loader:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(_shrink(x, downsample)), y)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
            opt.step()
            sched.step()
            step, train_loss = step + 1, float(loss.detach())
            if step >= steps:
                break
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in module.val_dataloader():
            correct += int((net(_shrink(x, downsample)).argmax(1) == y).sum())
            total += len(y)
    if not math.isfinite(train_loss):
        reward = 100.0 / module.num_classes  # a diverged child scores chance, not NaN
    else:
        reward = 100.0 * correct / total
    return {
        "reward": reward,
        "train_loss": train_loss,
        "steps": steps,
        "n_val": total,
        "params": count_params(net),
        "seed": s,
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.perf_counter() - start,
    }
