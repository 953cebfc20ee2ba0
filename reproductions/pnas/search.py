"""PNAS's progressive search (Liu et al., ECCV 2018, Sect. 3.2, Algorithm 1) over a cell
space of ``common.spaces.nasnet``.

Level 1 trains every one-block cell (136 in PNAS's space: 2 inputs x 8 ops per argument, the
two arguments unordered). At each later level b the K best cells by the predictor are chosen
among all (b)-block children of the previous level's K trained cells, trained, and the
predictor refitted on every cell trained so far. Settings (secondary, the paper text was not
read here; next-papers.md Sect. 5): B = 5, K = 256, children trained E = 20 epochs with N = 2,
F = 24; 136 + 4 x 256 = 1,160 trained models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from common.spaces.nasnet.cell import SPACES, Cell, Space, blocks_at


def one_block_cells(space: Space) -> list[Cell]:
    """Every one-block cell of ``space``, once per canonical form."""
    return [Cell((blk,), space=space.name) for blk in blocks_at(0, space)]


def expand(cell: Cell) -> list[Cell]:
    """Every child of ``cell`` with one more block (the new block last), once each:
    (|I| |O|)(|I| |O| + 1) / 2 per combination, |I| = B + 2 states to read."""
    space = SPACES[cell.space]
    return [
        Cell((*cell.blocks, blk), space=cell.space) for blk in blocks_at(cell.num_blocks, space)
    ]


@dataclass
class Trained:
    cell: Cell
    reward: float  # the child's validation accuracy (%)
    level: int


@dataclass
class ProgressiveResult:
    trained: list[Trained] = field(default_factory=list)
    # per level b >= 2: the predictor's scores of the K chosen cells and their rewards
    predicted: dict[int, list[tuple[float, float]]] = field(default_factory=dict)

    def best(self) -> Trained:
        return max(self.trained, key=lambda t: t.reward)


def progressive_search(
    space: Space,
    train: Callable[[Sequence[Cell]], list[float]],
    fit_predict: Callable[[list[Cell], list[float], list[Cell]], list[float]],
    max_blocks: int,
    beam: int,
    first_level: Sequence[Cell] | None = None,
) -> ProgressiveResult:
    """Algorithm 1: ``train`` returns the rewards of a batch of cells (it may run them in
    parallel); ``fit_predict(cells, rewards, candidates)`` fits a fresh predictor on every
    trained cell and scores the candidates. ``first_level`` overrides level 1 (all one-block
    cells) for reduced runs."""
    result = ProgressiveResult()
    level_cells = list(first_level) if first_level is not None else one_block_cells(space)
    rewards = train(level_cells)
    result.trained += [Trained(c, r, 1) for c, r in zip(level_cells, rewards)]
    frontier = [t.cell for t in sorted(result.trained, key=lambda t: -t.reward)[:beam]]
    for level in range(2, max_blocks + 1):
        seen: dict[str, Cell] = {}
        for parent in frontier:
            for child in expand(parent):
                seen.setdefault(child.key(), child)
        candidates = list(seen.values())
        scores = fit_predict(
            [t.cell for t in result.trained], [t.reward for t in result.trained], candidates
        )
        order = sorted(range(len(candidates)), key=lambda i: -scores[i])[:beam]
        chosen = [candidates[i] for i in order]
        rewards = train(chosen)
        result.predicted[level] = [(scores[i], r) for i, r in zip(order, rewards)]
        result.trained += [Trained(c, r, level) for c, r in zip(chosen, rewards)]
        frontier = chosen  # the K cells of this level, as trained (Algorithm 1)
    return result
