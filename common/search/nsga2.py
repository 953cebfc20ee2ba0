"""NSGA-II (Deb, Pratap, Agarwal, Meyarivan, IEEE TEC 2002), FairNAS's multi-objective
search backend, over a single-path search space.

The objectives here are the candidate's score with inherited supernet weights (maximised) and
its cost over architectures (minimised: a table's parameters or FLOPs; FairNAS trades
accuracy against multiply-adds and parameters). Internally every objective is minimised:
``(-score, cost)``.

- ``non_dominated_sort``: the fast non-dominated sort of Deb et al. Sect. III-A: front 0 holds
  the points no other point dominates, front k those dominated only by fronts < k.
- ``crowding_distance``: Sect. III-B: per objective, sort the front, give both ends infinite
  distance and every inner point the gap between its neighbours over the objective's range;
  sum over objectives.
- ``nsga2``: Sect. III-C: parents by binary tournament on (front, crowding distance); a child is
  a uniform crossover of two parents, then each gene redrawn with ``mutation_prob`` (the SPOS
  operators of ``common.search.evolution``); children must be new (never evaluated; a cost
  over ``cost_limit`` is rejected), as SPOS's ``is_legal``, so every evaluation is a new
  architecture; the next population is the best ``population`` of parents + children by front,
  the last front cut by crowding distance. ``population`` + ``generations`` x ``population``
  evaluations (50 + 20 x 50 = SPOS's 1,050 with the defaults).
- The answer is the highest-scoring member of the final first front within ``cost_limit``:
  the front's accuracy end, which elitism keeps (infinite crowding distance), so it is the best
  score ever evaluated within the limit.
"""

from __future__ import annotations

import random

import numpy as np

from common.search.evolution import Legality, Score, SearchResult, crossover, mutate
from common.training.single_path import Path, PathSpace


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` is nowhere worse than ``b`` and somewhere better (minimisation)."""
    return bool(np.all(a <= b) and np.any(a < b))


def non_dominated_sort(objectives: np.ndarray) -> list[list[int]]:
    """Fronts of row indices of ``objectives`` (n points x m objectives, minimised)."""
    f = np.asarray(objectives, dtype=np.float64)
    # dom[p, q]: p dominates q
    dom = np.all(f[:, None, :] <= f[None, :, :], axis=2) & np.any(
        f[:, None, :] < f[None, :, :], axis=2
    )
    count = dom.sum(axis=0)  # how many points dominate each point
    fronts = []
    current = [int(p) for p in np.flatnonzero(count == 0)]
    while current:
        fronts.append(current)
        count = count - dom[current].sum(axis=0)
        count[current] = -1  # placed
        current = [int(q) for q in np.flatnonzero(count == 0)]
    return fronts


def crowding_distance(objectives: np.ndarray) -> np.ndarray:
    """Crowding distance of each point of one front (rows of ``objectives``)."""
    f = np.asarray(objectives, dtype=np.float64)
    n, m = f.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(f[:, k], kind="stable")
        lo, hi = f[order[0], k], f[order[-1], k]
        dist[order[0]] = dist[order[-1]] = np.inf
        if hi == lo:
            continue
        gaps = (f[order[2:], k] - f[order[:-2], k]) / (hi - lo)
        dist[order[1:-1]] += gaps
    return dist


def rank_and_crowding(objectives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point's front index and its crowding distance within that front."""
    f = np.asarray(objectives, dtype=np.float64)
    rank, crowd = np.zeros(len(f), dtype=int), np.zeros(len(f))
    for r, front in enumerate(non_dominated_sort(f)):
        rank[front] = r
        crowd[front] = crowding_distance(f[front])
    return rank, crowd


def select_survivors(objectives: np.ndarray, size: int) -> list[int]:
    """NSGA-II's environmental selection: whole fronts in order, the last one by crowding
    distance (largest first; ties by index)."""
    f = np.asarray(objectives, dtype=np.float64)
    kept: list[int] = []
    for front in non_dominated_sort(f):
        if len(kept) + len(front) <= size:
            kept += front
            continue
        crowd = crowding_distance(f[front])
        order = sorted(range(len(front)), key=lambda i: (-crowd[i], front[i]))
        kept += [front[i] for i in order[: size - len(kept)]]
        break
    return kept


def hypervolume_2d(points: np.ndarray, reference: tuple[float, float]) -> float:
    """Area dominated by ``points`` (2 minimised objectives) and bounded by ``reference``."""
    p = np.asarray(points, dtype=np.float64)
    p = p[np.all(p < np.asarray(reference), axis=1)]
    if len(p) == 0:
        return 0.0
    front = p[non_dominated_sort(p)[0]]
    front = front[np.argsort(front[:, 0], kind="stable")]  # x ascending, so y descending
    xs = np.append(front[:, 0], reference[0])
    return float(np.sum((xs[1:] - xs[:-1]) * (reference[1] - front[:, 1])))


def nsga2(
    score: Score,
    space: PathSpace,
    rng: random.Random,
    population: int = 50,
    generations: int = 20,
    mutation_prob: float = 0.1,
    cost_limit: float | None = None,
) -> SearchResult:
    """NSGA-II over (score, cost) with ``space.cost``; see the module docstring."""
    if space.cost is None:
        raise ValueError("NSGA-II needs a cost objective: set space.cost_column")
    legal = Legality(score, space, cost_limit)
    cost: dict[Path, float] = {}

    def objectives(paths: list[Path]) -> np.ndarray:
        for p in paths:
            if p not in cost:
                cost[p] = space.path_cost(p)
        return np.array([(-legal.evaluated[p], cost[p]) for p in paths])

    pop: list[Path] = []
    legal.fill_random(pop, population, rng)
    history = []
    for generation in range(generations):
        rank, crowd = rank_and_crowding(objectives(pop))

        def tournament() -> Path:
            i, j = rng.randrange(len(pop)), rng.randrange(len(pop))
            better = (rank[i], -crowd[i]) <= (rank[j], -crowd[j])
            return pop[i if better else j]

        children = legal.produce(
            lambda: mutate(crossover(tournament(), tournament(), rng), space, mutation_prob, rng),
            population,
        )
        merged = pop + children
        pop = [merged[i] for i in select_survivors(objectives(merged), population)]
        front = [pop[i] for i in non_dominated_sort(objectives(pop))[0]]
        history.append(
            {
                "generation": generation,
                "evaluations": len(legal.evaluated),
                "children": len(children),
                "front_size": len(front),
                "best_score": max(legal.evaluated[p] for p in pop),
            }
        )
    front = [pop[i] for i in non_dominated_sort(objectives(pop))[0]]
    allowed = [p for p in front if cost_limit is None or cost[p] <= cost_limit] or front
    best = max(allowed, key=lambda p: legal.evaluated[p])
    final_front = sorted(
        ({"path": p, "score": legal.evaluated[p], "cost": cost[p]} for p in front),
        key=lambda d: d["cost"],
    )
    return SearchResult(best, legal.evaluated, history, {"final_front": final_front})
