"""NSGA-II (Deb et al., IEEE TEC 2002): non-dominated sorting, crowding distance and survivor
selection against hand computations; the search's bookkeeping; on the real NAS-Bench-201
table (accuracy vs parameters) its front beats random search's at equal evaluations."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from common.search.nsga2 import (
    crowding_distance,
    dominates,
    hypervolume_2d,
    non_dominated_sort,
    nsga2,
    select_survivors,
)
from common.spaces.nb201.arch import Nb201Arch
from common.supernets.mixers import SinglePathMixer
from common.supernets.nb201 import Nb201Supernet
from common.training.single_path import PathSpace, ops_of
from tests.common.training.chain import ChainSupernet, chain_space

# minimised (f1, f2). By hand: A, B, C trade off (front 0); D is dominated by B only
# (front 1); E by D (and others) (front 2); F duplicates B (nobody dominates an equal point).
POINTS = np.array(
    [
        [1.0, 5.0],  # 0 A
        [2.0, 3.0],  # 1 B
        [4.0, 1.0],  # 2 C
        [3.0, 4.0],  # 3 D: dominated by B
        [5.0, 5.0],  # 4 E: dominated by B, C, D
        [2.0, 3.0],  # 5 F = B
    ]
)


def test_dominance_and_fronts_by_hand():
    assert dominates(POINTS[1], POINTS[3]) and not dominates(POINTS[1], POINTS[5])
    assert not dominates(POINTS[0], POINTS[2]) and not dominates(POINTS[2], POINTS[0])
    assert non_dominated_sort(POINTS) == [[0, 1, 2, 5], [3], [4]]


def test_crowding_distance_by_hand():
    # front A(1,5), B(2,3), C(4,1): ranges 3 and 4. B's neighbours A and C: (4-1)/3 + (5-1)/4 = 2
    d = crowding_distance(POINTS[[0, 1, 2]])
    assert np.isinf(d[0]) and np.isinf(d[2]) and d[1] == pytest.approx(2.0)
    # four points on a line (0,3),(1,2),(2,1),(3,0): inner ones (2/3 + 2/3)
    line = np.array([[0, 3], [1, 2], [2, 1], [3, 0]], dtype=float)
    np.testing.assert_allclose(crowding_distance(line), [np.inf, 4 / 3, 4 / 3, np.inf])
    assert np.isinf(crowding_distance(line[:2])).all()


def test_survivors_fill_by_front_then_crowding():
    # Front 0 = A, B, C, F. By f1 (stable sort: A, B, F, C; range 3) B gets (2-1)/3 and F
    # (4-2)/3; by f2 (C, B, F, A; range 4) B gets (3-1)/4, F (5-3)/4. So B 5/6 < F 7/6: keeping
    # 3 keeps the two ends and F; keeping 5 takes the whole front, then D.
    f0 = POINTS[[0, 1, 2, 5]]
    np.testing.assert_allclose(crowding_distance(f0), [np.inf, 5 / 6, np.inf, 7 / 6])
    assert select_survivors(POINTS, 3) == [0, 2, 5]
    assert select_survivors(POINTS, 5) == [0, 1, 2, 5, 3]


def test_hypervolume_by_hand():
    # staircase of A, B, C up to (6, 6): 1*(6-5) + 2*(6-3) + 2*(6-1) = 1 + 6 + 10 = 17
    assert hypervolume_2d(POINTS, (6.0, 6.0)) == pytest.approx(17.0)
    assert hypervolume_2d(np.array([[7.0, 1.0]]), (6.0, 6.0)) == 0.0


def test_bookkeeping_and_answer():
    cost = lambda path: float(sum(op == "a" for op in path))  # noqa: E731
    space = chain_space(ChainSupernet(layers=12), cost)
    score = lambda path: float(sum(op == "c" for op in path))  # noqa: E731
    res = nsga2(score, space, random.Random(0), population=20, generations=5)
    assert res.num_evaluations == 20 + 5 * 20  # every child is a new architecture
    assert res.evaluated[res.best] == max(res.evaluated.values())  # the front's accuracy end
    front = res.extra["final_front"]
    costs = [d["cost"] for d in front]
    assert costs == sorted(costs) and all(d["path"] in res.evaluated for d in front)
    limited = nsga2(score, space, random.Random(0), population=20, generations=3, cost_limit=2)
    assert all(cost(p) <= 2 for p in limited.evaluated)
    with pytest.raises(ValueError, match="needs a cost objective"):
        nsga2(score, chain_space(ChainSupernet()), random.Random(0))


def test_beats_random_search_on_the_nb201_table(nb201_bench):
    """Objectives: the table's 12-epoch validation accuracy (max) and parameters (min). Over
    50 seeds, the hypervolume of NSGA-II's final front against that of the non-dominated set
    of as many random cells."""
    net = Nb201Supernet(10, mixer=SinglePathMixer, channels=2, cells_per_stage=1)
    params = lambda arch: nb201_bench.value(arch, "params_m_cifar10")  # noqa: E731
    space = PathSpace.of(net.mixer, Nb201Arch, ops_of, params)

    def score(path):
        return nb201_bench.value(Nb201Arch(path), "cifar10_valid_12ep")

    def hv(paths):
        pts = np.array([(-score(p), space.path_cost(p)) for p in paths])
        return hypervolume_2d(pts, (0.0, 1.6))

    ours, rand = [], []
    for seed in range(50):
        res = nsga2(score, space, random.Random(seed), population=20, generations=5)
        ours.append(hv([d["path"] for d in res.extra["final_front"]]))
        rng, seen = random.Random(10_000 + seed), set()
        while len(seen) < res.num_evaluations:
            seen.add(space.random_path(rng))
        rand.append(hv(list(seen)))
    assert stats.mannwhitneyu(ours, rand, alternative="greater").pvalue < 0.01
