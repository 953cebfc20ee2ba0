"""TE-NAS pruning-by-importance search on NB-201 (Chen, Gong, Wang, ICLR 2021, Sect. 3.2,
Algorithm 1; official code: VITA-Group/TENAS @9df78ff, prune_tenas.py ``prune_func_rank``
and prune_launch.py).

Start from the supernet with every op but ``none`` on each edge. Each round, for every
remaining op o on an edge that still has more than one, measure with o removed:
``dk(o) = (kappa_N - kappa_{N\\o}) / kappa_N`` (NTK condition number; high -> prune) and
``dR(o) = (R_N - R_{N\\o}) / R_N`` (linear regions; low -> prune), each averaged over
``repeat`` measurements rounded to ``precision`` decimals. Rank all ops by dk (descending)
and by dR (ascending) with dense ranks, sum the two ranks, and on each edge prune the op with
the smallest sum. Stop when one op is left per edge.

Measurements within a round are paired: for repeat r, the unpruned supernet and every
candidate are measured with the same weights and the same NTK batch / crop samples. (TE-NAS
draws a new batch per candidate and a fresh thin network per candidate for the regions; see
README deviations.)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from common.data.pool import CIFAR10_MEAN_XAUTODL, CIFAR10_STD_XAUTODL, ImagePool
from common.scores.linear_regions import num_linear_regions
from common.scores.ntk import ntk_condition_number
from common.spaces.nb201.arch import OPS, Nb201Arch
from reproductions.te_nas.supernet import (
    Mask,
    full_mask,
    kaiming_normal_init,
    mask_to_arch,
    nb201_supernet,
    prune,
    set_mask,
)

NTK_COND_FALLBACK = 100000.0  # ntk.py: np.nan_to_num(cond, nan=100000.0)


@dataclass(frozen=True)
class TeNasSettings:
    num_classes: int = 10
    ntk_channels: int = 3  # prune_tenas.py model_config: C=3, N=1
    ntk_cells_per_stage: int = 1
    ntk_batch_size: int = 72  # prune_launch.py, nas-bench-201: batch_size = 72
    ntk_augment: bool = True  # TE-NAS loader: RandomHorizontalFlip + RandomCrop(32, padding=4)
    lr_channels: int = 1  # model_config_thin: C=1, N=1, depth=1, use_stem=False
    lr_samples_per_batch: int = 1000  # Linear_Region_Collector(input_size=(1000, 1, 3, 3), ...)
    lr_num_batches: int = 3  # ... sample_batch=3
    lr_crop_size: int = 3
    repeat: int = 3  # prune_launch.py --repeat 3
    precision: int = 3  # prune_launch.py precision = 3
    init: str = "pytorch_default"  # or "kaiming_normal" (paper App. A; see README)
    mean: Sequence[float] = CIFAR10_MEAN_XAUTODL
    std: Sequence[float] = CIFAR10_STD_XAUTODL


def _finite_cond(value: float) -> float:
    return value if math.isfinite(value) else NTK_COND_FALLBACK


def dense_ranks(values: dict, descending: bool) -> tuple[dict, list]:
    """Dense ranks (equal values share a rank), in a stable sort of ``values``' order."""
    order = sorted(values, key=lambda c: values[c], reverse=descending)
    ranks, rank = {}, -1
    for i, c in enumerate(order):
        if i == 0 or values[c] != values[order[i - 1]]:
            rank += 1
        ranks[c] = rank
    return ranks, order


def rank_sum_order(d_kappa: dict, d_regions: dict) -> list:
    """Candidates from most to least prunable: ascending rank(dk, descending) +
    rank(dR, ascending), ties in the dk order (TE-NAS sorts ``rankings`` stably by the sum)."""
    s_kappa, kappa_order = dense_ranks(d_kappa, descending=True)
    s_regions, _ = dense_ranks(d_regions, descending=False)
    return sorted(kappa_order, key=lambda c: s_kappa[c] + s_regions[c])


def choose_prunes(d_kappa: dict, d_regions: dict, per_edge: int = 1) -> dict:
    """Per edge (a candidate is ``(edge, op)``), the ``per_edge`` most prunable ops; with
    ``per_edge=1`` the op itself, else a list (``prune_func_rank``'s ``edge2choice``)."""
    chosen: dict = {}
    for edge, op in rank_sum_order(d_kappa, d_regions):
        ops = chosen.setdefault(edge, [])
        if len(ops) < per_edge:
            ops.append(op)
    return {e: ops[0] for e, ops in chosen.items()} if per_edge == 1 else chosen


def measure_deltas(
    ntk_net: torch.nn.Module,
    lr_net: torch.nn.Module,
    pool: ImagePool,
    rng: np.random.Generator,
    s,
    base_mask,
    candidates: dict,
    device: torch.device,
) -> tuple[dict, dict, float, float]:
    """Algorithm 1's measurements for one pruning decision: for each candidate mask (the
    supernet with one op, or one edge, removed), the relative changes ``dk`` and ``dR``
    against ``base_mask``, each rounded to ``s.precision`` decimals per repeat and averaged
    over ``s.repeat`` repeats; also the unpruned supernet's mean ``kappa_N`` and ``R_N``.
    Within a repeat every mask is measured on the same batch, crops and weights."""
    d_kappa: dict = {c: [] for c in candidates}
    d_regions: dict = {c: [] for c in candidates}
    base_kappa, base_regions = [], []
    for _ in range(s.repeat):
        if s.init == "kaiming_normal":
            kaiming_normal_init(ntk_net, "fan_out")  # TE-NAS: "_fanout" for backward
            kaiming_normal_init(lr_net, "fan_in")  # "_fanin" for forward
        x, _ = pool.batch(rng, s.ntk_batch_size, s.mean, s.std, s.ntk_augment, device=device)
        crops = pool.crops(
            rng,
            s.lr_samples_per_batch * s.lr_num_batches,
            s.mean,
            s.std,
            size=s.lr_crop_size,
            device=device,
        )
        set_mask(ntk_net, base_mask)
        set_mask(lr_net, base_mask)
        k0 = _finite_cond(ntk_condition_number(ntk_net, x))
        r0 = num_linear_regions(lr_net, crops, batch_size=s.lr_samples_per_batch)
        base_kappa.append(k0)
        base_regions.append(r0)
        for c, mask in candidates.items():
            set_mask(ntk_net, mask)
            set_mask(lr_net, mask)
            k = _finite_cond(ntk_condition_number(ntk_net, x))
            r = num_linear_regions(lr_net, crops, batch_size=s.lr_samples_per_batch)
            d_kappa[c].append(round((k0 - k) / k0, s.precision))
            d_regions[c].append(round((r0 - r) / r0, s.precision))
    mean_dk = {c: float(np.mean(v)) for c, v in d_kappa.items()}
    mean_dr = {c: float(np.mean(v)) for c, v in d_regions.items()}
    return mean_dk, mean_dr, float(np.mean(base_kappa)), float(np.mean(base_regions))


def te_nas_search(
    pool: ImagePool, settings: TeNasSettings, seed: int, device: torch.device
) -> dict:
    """One TE-NAS search; returns the found cell and the pruning history."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    s = settings
    mask: Mask = full_mask()
    rounds = []
    start = time.perf_counter()
    while any(len(ops) > 1 for ops in mask):
        ntk_net = nb201_supernet(s.ntk_channels, s.ntk_cells_per_stage, s.num_classes).to(device)
        lr_net = nb201_supernet(s.lr_channels, 1, s.num_classes, use_stem=False, depth=1).to(device)
        candidates = [
            (e, op) for e, ops in enumerate(mask) if len(ops) > 1 for op in OPS if op in ops
        ]
        masks = {(edge, op): prune(mask, edge, op) for edge, op in candidates}
        mean_dk, mean_dr, kappa, regions = measure_deltas(
            ntk_net, lr_net, pool, rng, s, mask, masks, device
        )
        pruned = choose_prunes(mean_dk, mean_dr)
        for edge, op in pruned.items():
            mask = prune(mask, edge, op)
        rounds.append(
            {
                "kappa": kappa,
                "regions": regions,
                "pruned": {str(e): op for e, op in sorted(pruned.items())},
                "d_kappa": {f"{e}:{op}": v for (e, op), v in mean_dk.items()},
                "d_regions": {f"{e}:{op}": v for (e, op), v in mean_dr.items()},
            }
        )
    arch: Nb201Arch = mask_to_arch(mask)
    return {"arch": arch, "rounds": rounds, "search_s": time.perf_counter() - start}
