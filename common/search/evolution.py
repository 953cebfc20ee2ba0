"""SPOS's evolutionary architecture search (Guo et al., ECCV 2020; official code
megvii-model/SinglePathOneShot @36eed6c, ``src/Search/search.py`` and
``src/Evaluation/eval.py``), generic over a single-path search space.

A candidate is a path (one op per position of a ``PathSpace``); ``score(path)`` is its
fitness, higher is better (SPOS: top-1 accuracy with inherited supernet weights after
batch-norm recalibration; ``search.py`` ranks by the error). As ``EvolutionSearcher``:

1. ``get_random``: fill the population with uniform random candidates that are *legal*
   (``is_legal``: never evaluated before and, with a cost limit, at most that cost);
   a legal candidate is evaluated at once.
2. Each of ``generations`` rounds (``max_epochs``): keep the ``select`` best candidates seen
   so far (``update_top_k``, cumulative over rounds); make up to ``mutations`` legal mutants
   (a parent drawn from the top, each gene redrawn uniformly with probability
   ``mutation_prob``: ``get_mutation``) and up to ``crossovers`` legal children (two parents
   drawn from the top, each gene taken from either: ``get_crossover``), each with at most
   10 tries per wanted candidate; fill up with random legal candidates.
3. The answer is the best candidate ever evaluated (``eval.py`` takes the lowest error over
   the whole ``vis_dict``, the last round's candidates included).

Official settings (``search.py`` argparse defaults): population 50, select 10, 25 mutations
with probability 0.1, 25 crossovers, 20 rounds, FLOPs limit 330M (ShuffleNet space) -- so
50 + 20 x 50 = 1,050 evaluations. ``mutate`` and ``crossover`` are shared with NSGA-II.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.training.single_path import Path, PathSpace

Score = Callable[[Path], float]


@dataclass
class SearchResult:
    """What a search over a ``PathSpace`` returns: the chosen path, every evaluation, a
    per-round history and algorithm-specific extras (e.g. NSGA-II's final front)."""

    best: Path
    evaluated: dict[Path, float]
    history: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_evaluations(self) -> int:
        return len(self.evaluated)


def mutate(parent: Path, space: PathSpace, prob: float, rng: random.Random) -> Path:
    """Each gene redrawn uniformly (possibly to the same op) with probability ``prob``."""
    return tuple(rng.choice(space.choices) if rng.random() < prob else g for g in parent)


def crossover(a: Path, b: Path, rng: random.Random) -> Path:
    """Uniform crossover: each gene from either parent with probability 1/2."""
    return tuple(rng.choice((x, y)) for x, y in zip(a, b, strict=True))


class Legality:
    """``is_legal`` of ``search.py``: a candidate is new and within the cost limit; a legal
    one is evaluated at once. Candidates over the limit are remembered and never costed twice."""

    def __init__(self, score: Score, space: PathSpace, cost_limit: float | None) -> None:
        self.score, self.space, self.cost_limit = score, space, cost_limit
        self.evaluated: dict[Path, float] = {}
        self.rejected: set[Path] = set()

    def __call__(self, path: Path) -> bool:
        if path in self.evaluated or path in self.rejected:
            return False
        if self.cost_limit is not None and self.space.path_cost(path) > self.cost_limit:
            self.rejected.add(path)
            return False
        self.evaluated[path] = float(self.score(path))
        return True

    def fill_random(self, candidates: list[Path], size: int, rng: random.Random) -> None:
        """Random legal candidates until ``size`` (the official loop has no cap; here
        ``100 * size`` draws, for spaces smaller than the budget or a limit nothing meets)."""
        for _ in range(100 * size):
            if len(candidates) >= size:
                return
            path = self.space.random_path(rng)
            if self(path):
                candidates.append(path)

    def produce(self, make: Callable[[], Path], wanted: int) -> list[Path]:
        """Up to ``wanted`` legal candidates from ``make``, at most ``10 * wanted`` tries."""
        out: list[Path] = []
        for _ in range(10 * wanted):
            if len(out) >= wanted:
                break
            path = make()
            if self(path):
                out.append(path)
        return out


def spos_evolution(
    score: Score,
    space: PathSpace,
    rng: random.Random,
    population: int = 50,
    select: int = 10,
    mutations: int = 25,
    mutation_prob: float = 0.1,
    crossovers: int = 25,
    generations: int = 20,
    cost_limit: float | None = None,
) -> SearchResult:
    """SPOS's evolution (see the module docstring); ``cost_limit`` in ``space.cost`` units."""
    legal = Legality(score, space, cost_limit)
    candidates: list[Path] = []
    legal.fill_random(candidates, population, rng)
    top: list[Path] = []
    history = []
    for generation in range(generations):
        # sorted() is stable: among equal scores the earlier candidate stays ahead
        top = sorted(top + candidates, key=lambda p: -legal.evaluated[p])[:select]
        history.append(
            {
                "generation": generation,
                "evaluations": len(legal.evaluated),
                "top_scores": [legal.evaluated[p] for p in top],
            }
        )
        mutants = legal.produce(
            lambda: mutate(rng.choice(top), space, mutation_prob, rng), mutations
        )
        children = legal.produce(
            lambda: crossover(rng.choice(top), rng.choice(top), rng), crossovers
        )
        candidates = mutants + children
        history[-1].update({"mutants": len(mutants), "children": len(children)})
        legal.fill_random(candidates, population, rng)
    best = max(legal.evaluated, key=legal.evaluated.__getitem__)  # first of equal scores
    return SearchResult(
        best, legal.evaluated, history, {"rejected_over_limit": len(legal.rejected)}
    )
