"""TE-NAS on the DARTS space (Chen, Gong, Wang, ICLR 2021, Sect. 4.2; official code:
VITA-Group/TENAS @9df78ff, prune_tenas.py ``main``, ``prune_func_rank``,
``prune_func_rank_group``; settings from prune_launch.py ``--space darts --dataset cifar10``).

Two phases, both ranking candidates by ``rank(dk, descending) + rank(dR, ascending)`` as on
NAS-Bench-201 (``search.py``):

1. **Operators.** Start with every op but ``none`` on each of the 14 edges of the normal and
   the reduction cell. Each round, measure the removal of every remaining op of every edge
   that still has more than one (both cell types ranked together) and prune the
   ``prune_number`` most prunable ops of each edge (3 for CIFAR-10: 7 -> 4 -> 1 ops, two
   rounds), until one op per edge is left.
2. **Edges.** Then, per cell type and per node, measure the removal of each incoming edge
   (with its one op) and keep the ``edges_per_node`` (2) least prunable; the nodes are pruned
   one after the other (normal cell first), each on the mask the previous one left.

The result is a DARTS genotype (two (op, input) entries per node), saved as the
``genotype.json`` the DARTS retrain stage reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from common.data.pool import CIFAR10_MEAN_XAUTODL, CIFAR10_STD_XAUTODL, ImagePool
from common.spaces.darts.genotype import Genotype
from reproductions.te_nas.darts_supernet import (
    CELL_TYPES,
    EDGES,
    NODE_EDGE_GROUPS,
    TENAS_DARTS_OPS,
    DartsMask,
    darts_supernet,
    full_mask,
    mask_to_genotype,
    prune,
)
from reproductions.te_nas.search import choose_prunes, measure_deltas, rank_sum_order


@dataclass(frozen=True)
class TeNasDartsSettings:
    num_classes: int = 10
    ntk_channels: int = 1  # prune_tenas.py model_config (darts): C=1
    ntk_cells_per_stage: int = 1  # ... N=1
    depth: int = 2  # ... depth=2: one normal and one reduction cell
    stem_multiplier: int = 1  # ... stem_multiplier=1
    ntk_batch_size: int = 14  # prune_launch.py (darts, cifar10): batch_size = 14
    ntk_augment: bool = True  # TE-NAS CIFAR train loader: flip + crop
    lr_channels: int = 1  # model_config_thin: C=1, N=1, depth=2, use_stem=False
    lr_samples_per_batch: int = 1000  # Linear_Region_Collector(input_size=(1000, 1, 3, 3))
    lr_num_batches: int = 3  # ... sample_batch=3
    lr_crop_size: int = 3
    repeat: int = 3  # prune_launch.py --repeat 3
    precision: int = 3  # prune_launch.py precision = 3
    prune_number: int = 3  # prune_launch.py (darts, cifar10): prune_number = 3
    edges_per_node: int = 2  # prune_func_rank_group(num_per_group=2)
    init: str = "pytorch_default"  # or "kaiming_normal" (see the README)
    mean: Sequence[float] = CIFAR10_MEAN_XAUTODL
    std: Sequence[float] = CIFAR10_STD_XAUTODL


def _networks(s: TeNasDartsSettings, device: torch.device):
    ntk_net = darts_supernet(
        s.ntk_channels,
        s.ntk_cells_per_stage,
        s.num_classes,
        depth=s.depth,
        stem_multiplier=s.stem_multiplier,
    ).to(device)
    lr_net = darts_supernet(
        s.lr_channels,
        s.ntk_cells_per_stage,
        s.num_classes,
        depth=s.depth,
        use_stem=False,
        stem_multiplier=s.stem_multiplier,
    ).to(device)
    return ntk_net, lr_net


def _key(c) -> str:
    (cell, edge), op = c
    node, inp = EDGES[edge]
    return f"{CELL_TYPES[cell]}:{node}<-{inp}:{op}"


def te_nas_darts_search(
    pool: ImagePool,
    settings: TeNasDartsSettings,
    seed: int,
    device: torch.device,
    progress: Callable[[dict], None] | None = None,
) -> dict:
    """One TE-NAS search on the DARTS space; returns the genotype and the pruning history.
    ``progress`` is called with each finished round (a search takes an hour on a CPU)."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    s = settings
    mask: DartsMask = full_mask()
    rounds = []
    start = time.perf_counter()

    def active(m: DartsMask, cell: int, edge: int) -> list[str]:
        return [op for op in TENAS_DARTS_OPS if op in m[cell][edge]]

    while any(len(ops) > 1 for cell in mask for ops in cell):
        ntk_net, lr_net = _networks(s, device)  # new weights each round, as TE-NAS
        remaining = len(active(mask, 0, 0))  # prune_tenas.py reads edge 0 of the normal cell
        per_edge = min(s.prune_number, remaining - 1)
        candidates = {
            ((cell, edge), op): prune(mask, cell, edge, op)
            for cell in range(2)
            for edge in range(len(EDGES))
            if len(mask[cell][edge]) > 1
            for op in active(mask, cell, edge)
        }
        mean_dk, mean_dr, kappa, regions = measure_deltas(
            ntk_net, lr_net, pool, rng, s, mask, candidates, device
        )
        pruned = choose_prunes(mean_dk, mean_dr, per_edge=per_edge)
        for (cell, edge), ops in pruned.items():
            for op in ops:
                mask = prune(mask, cell, edge, op)
        rounds.append(
            {
                "phase": "ops",
                "kappa": kappa,
                "regions": regions,
                "pruned": sorted(_key((ce, op)) for ce, ops in pruned.items() for op in ops),
                "d_kappa": {_key(c): v for c, v in mean_dk.items()},
                "d_regions": {_key(c): v for c, v in mean_dr.items()},
                "elapsed_s": time.perf_counter() - start,
            }
        )
        if progress:
            progress(rounds[-1])

    ntk_net, lr_net = _networks(s, device)  # one network pair for the edge phase, as TE-NAS
    for cell in range(2):
        for group in NODE_EDGE_GROUPS:
            if len(group) <= s.edges_per_node:
                continue  # node 0 has exactly two inputs
            candidates = {
                ((cell, edge), active(mask, cell, edge)[0]): prune(mask, cell, edge)
                for edge in group
            }
            mean_dk, mean_dr, kappa, regions = measure_deltas(
                ntk_net, lr_net, pool, rng, s, mask, candidates, device
            )
            order = rank_sum_order(mean_dk, mean_dr)
            removed = order[: -s.edges_per_node]
            for (c, edge), _op in removed:
                mask = prune(mask, c, edge)
            rounds.append(
                {
                    "phase": "edges",
                    "kappa": kappa,
                    "regions": regions,
                    "pruned": sorted(_key(c) for c in removed),
                    "d_kappa": {_key(c): v for c, v in mean_dk.items()},
                    "d_regions": {_key(c): v for c, v in mean_dr.items()},
                    "elapsed_s": time.perf_counter() - start,
                }
            )
            if progress:
                progress(rounds[-1])
    genotype: Genotype = mask_to_genotype(mask)
    return {"genotype": genotype, "rounds": rounds, "search_s": time.perf_counter() - start}
