"""SPOS's evolutionary search (official src/Search/search.py): the operators give valid paths,
the bookkeeping matches the official loop, the cost limit holds, and on the real NAS-Bench-201
table it beats random search at an equal number of evaluations."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from common.search.evolution import crossover, mutate, spos_evolution
from common.spaces.nb201.arch import Nb201Arch
from common.supernets.mixers import SinglePathMixer
from common.supernets.nb201 import Nb201Supernet
from common.training.single_path import PathSpace, ops_of
from tests.common.training.chain import ChainSupernet, chain_space


def big_chain(cost=None) -> PathSpace:
    return chain_space(ChainSupernet(layers=12), cost)  # 3**12 paths: never exhausted here


def n_c(path) -> float:
    return float(sum(op == "c" for op in path))


def test_operators_give_valid_paths():
    space, rng = big_chain(), random.Random(0)
    a, b = space.random_path(rng), space.random_path(rng)
    for _ in range(200):
        child = crossover(a, b, rng)
        assert space.check(child) == child and all(g in (x, y) for g, x, y in zip(child, a, b))
        mutant = mutate(a, space, 0.1, rng)
        assert space.check(mutant) == mutant
    assert mutate(a, space, 0.0, rng) == a
    flips = np.mean([m != g for _ in range(300) for m, g in zip(mutate(a, space, 1.0, rng), a)])
    assert abs(flips - 2 / 3) < 0.05  # redrawn uniformly: the same op a third of the time


def test_official_bookkeeping():
    space = big_chain()
    res = spos_evolution(n_c, space, random.Random(0))  # official defaults
    assert res.num_evaluations == 50 + 20 * 50  # every round refills to the population
    assert len(res.history) == 20 and all(h["mutants"] == 25 for h in res.history)
    assert res.best == max(res.evaluated, key=res.evaluated.get)
    best_top = [h["top_scores"][0] for h in res.history]
    assert best_top == sorted(best_top) and len(res.history[0]["top_scores"]) == 10
    assert n_c(res.best) >= 11  # the objective is easy: climbs to (nearly) all "c"


def test_cost_limit_holds_for_every_evaluated_candidate():
    cost = lambda path: float(sum(op == "b" for op in path))  # noqa: E731
    space = big_chain(cost)
    score = lambda path: n_c(path) + 2 * cost(path)  # noqa: E731  (rewards the limited cost)
    res = spos_evolution(score, space, random.Random(1), generations=5, cost_limit=3)
    assert all(cost(p) <= 3 for p in res.evaluated)
    assert cost(res.best) == 3 and res.extra["rejected_over_limit"] > 0


def test_a_space_smaller_than_the_budget_ends():
    space = chain_space(ChainSupernet(layers=3))  # 27 paths, budget 1,050
    res = spos_evolution(n_c, space, random.Random(0))
    assert res.num_evaluations == 27 and res.best == ("c", "c", "c")


@pytest.fixture(scope="module")
def nb201_space():
    net = Nb201Supernet(10, mixer=SinglePathMixer, channels=2, cells_per_stage=1)
    return PathSpace.of(net.mixer, Nb201Arch, ops_of)


def test_beats_random_search_on_the_nb201_table(nb201_bench, nb201_space):
    """Score = the table's 12-epoch validation accuracy (the NB-201 search signal); found cell
    judged by its 200-epoch test accuracy; 100 seeds; equal numbers of distinct evaluations."""

    def score(path):
        return nb201_bench.value(Nb201Arch(path), "cifar10_valid_12ep")

    def test_acc(path):
        return nb201_bench.value(Nb201Arch(path), "cifar10_test")

    settings = dict(population=20, select=5, mutations=5, crossovers=5, generations=5)
    evo, rand = [], []
    for seed in range(100):
        res = spos_evolution(score, nb201_space, random.Random(seed), **settings)
        evo.append(test_acc(res.best))
        rng, seen = random.Random(10_000 + seed), set()
        while len(seen) < res.num_evaluations:
            seen.add(nb201_space.random_path(rng))
        rand.append(test_acc(max(seen, key=score)))
    assert stats.mannwhitneyu(evo, rand, alternative="greater").pvalue < 0.01
    assert np.mean(evo) > np.mean(rand)
