"""PNAS end to end with trained children, and random search with as many trained children.

``run(cfg, logger)`` with ``search.strategy``:

- ``progressive``: Algorithm 1 (search.py) with children trained by
  ``common.spaces.nasnet.child.train_child`` through ``ChildPool`` and a fresh predictor
  ensemble (predictor.py) fitted on every trained cell before each expansion.
- ``random``: ``level1 + (max_blocks - 1) * beam`` cells of ``max_blocks`` blocks (the same
  number of trained children as the progressive run with the same settings), each block drawn
  uniformly among the blocks that can take its place.

The best cell is the one with the highest child validation accuracy (held-out training
images); the run writes it into its folder as ``cell.json`` and names it in ``protocol.found``,
which ``pnas_pnas-space_cifar10-jpeg_retrain_reduced`` retrains (``genotype=<either>``). ``diagnostics.children`` lists every trained child in order (record contract), and
the progressive run adds the predictor's rank correlation with the trained children's rewards
at each level b >= 2 (what PNAS Sect. 5.2 reports per level; secondary).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from omegaconf import DictConfig, OmegaConf
from scipy.stats import kendalltau, spearmanr

from common.errors import NasReproError
from common.results.record import RunResult
from common.spaces.nasnet.cell import NUM_INPUTS, Cell, Space, blocks_at
from common.spaces.nasnet.child import train_child
from common.spaces.nasnet.search_run import checked_space, child_pool, search_result
from reproductions.pnas.predictor import Block, Ensemble
from reproductions.pnas.search import one_block_cells, progressive_search

STRATEGIES = ("progressive", "random")
CURVE_GROUP = "pnas_pnas-space_cifar10-jpeg"
LABELS = {"progressive": "PNAS (progressive, predictor)", "random": "random search"}


def encode(cell: Cell, space: Space) -> list[Block]:
    """PNAS Sect. 3.3's tokens, 1-based (0 is the predictor's padding)."""
    return [
        (b.in_a + 1, b.in_b + 1, space.ops.index(b.op_a) + 1, space.ops.index(b.op_b) + 1)
        for b in cell.blocks
    ]


def random_cell(space: Space, num_blocks: int, rng: np.random.Generator) -> Cell:
    blocks = []
    for b in range(num_blocks):
        options = list(blocks_at(b, space))
        blocks.append(options[int(rng.integers(len(options)))])
    return Cell(tuple(blocks), space=space.name)


def correlations(pairs: Sequence[tuple[float, float]]) -> dict[str, float | None]:
    """Spearman and Kendall of (prediction, reward) pairs; None where undefined (fewer than 3
    pairs, or a constant side)."""
    pred, true = zip(*pairs)
    if len(pairs) < 3 or np.std(pred) == 0 or np.std(true) == 0:
        return {"spearman": None, "kendall": None, "n": len(pairs)}
    return {
        "spearman": float(spearmanr(pred, true).statistic),
        "kendall": float(kendalltau(pred, true).statistic),
        "n": len(pairs),
    }


def run(cfg: DictConfig, logger) -> RunResult:  # noqa: ANN001 - RunLogger
    s = cfg.search
    space = checked_space(s, STRATEGIES)
    max_blocks, beam = int(s.max_blocks), int(s.beam)
    if max_blocks < 1 or beam < 1:
        raise NasReproError("search.max_blocks and search.beam must be at least 1")
    pool = child_pool(cfg, train_child)
    rng = np.random.default_rng(int(cfg.seed))
    all_one = one_block_cells(space)
    level1 = len(all_one) if s.level1 is None else int(s.level1)
    if not 1 <= level1 <= len(all_one):
        raise NasReproError(f"search.level1 must be in 1..{len(all_one)} or null, got {level1}")
    children: list[dict] = []
    trained: list[Cell] = []

    def train(cells: Sequence[Cell], level: int) -> list[float]:
        results = pool.map(list(cells))
        for cell, r in zip(cells, results):
            children.append({"index": len(children), "arch": str(cell), "level": level, **r})
            trained.append(cell)
            logger.log({"reward": r["reward"], "level": level}, step=len(children))
        return [r["reward"] for r in results]

    t0 = time.time()
    levels: dict[int, dict] = {}
    if s.strategy == "progressive":
        first = [all_one[i] for i in sorted(rng.permutation(len(all_one))[:level1])]
        num_inputs, fits = NUM_INPUTS + max_blocks, [0]
        current = {"level": 1}

        def train_level(cells: Sequence[Cell]) -> list[float]:
            return train(cells, current["level"])

        def fit_predict(cells, rewards, candidates):  # noqa: ANN001, ANN202
            fits[0] += 1
            current["level"] += 1
            p = s.predictor
            ens = Ensemble(
                p.kind, num_inputs, len(space.ops), int(p.size), int(p.epochs),
                seed=int(cfg.seed) * 1000 + fits[0],
            )  # fmt: skip
            ens.fit([encode(c, space) for c in cells], [r / 100.0 for r in rewards])
            return ens.predict([encode(c, space) for c in candidates]).tolist()

        result = progressive_search(
            space, train_level, fit_predict, max_blocks, beam, first_level=first
        )
        for level, pairs in result.predicted.items():
            levels[level] = correlations(pairs)
        for level, pairs in result.predicted.items():  # the level's children, in order
            at_level = [c for c in children if c["level"] == level]
            for c, (score, _) in zip(at_level, pairs, strict=True):
                c["predicted"] = 100.0 * score
    else:
        total = level1 + (max_blocks - 1) * beam
        train([random_cell(space, max_blocks, rng) for _ in range(total)], max_blocks)
    metrics: dict[str, list[float]] = {}
    for level, corr in levels.items():
        if corr["kendall"] is None:
            continue
        metrics[f"predictor_kendall_level{level}"] = [corr["kendall"]]
        metrics[f"predictor_spearman_level{level}"] = [corr["spearman"]]
    return search_result(
        cfg,
        logger,
        archs=trained,
        children=children,
        pool=pool,
        started=t0,
        curve_group=CURVE_GROUP,
        curve_label=LABELS[s.strategy],
        metrics=metrics,
        protocol={
            "max_blocks": max_blocks,
            "beam": beam,
            "level1": level1,
            "predictor": OmegaConf.to_container(s.predictor, resolve=True),
        },
        diagnostics={
            "predictor_rank_correlation": {str(k): v for k, v in levels.items()},
        },
    )
