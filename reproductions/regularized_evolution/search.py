"""Regularized evolution (REA; Real, Aggarwal, Huang, Le, AAAI 2019, Sect. "Methods", Alg. 1)
on NAS-Bench-201, with the NB-201 paper's settings (Dong & Yang, ICLR 2020, Sect. 5).

Aging evolution: a fixed-size population is a queue; each cycle draws ``sample_size`` members
at random (with replacement, as the NB-201 code does), mutates the best of them, appends the
child and removes the oldest member. The answer is the best architecture ever evaluated.
"""

from __future__ import annotations

import collections
import random

from common.evaluators.base import Evaluator
from common.spaces.nb201.arch import Nb201Arch


def regularized_evolution(
    evaluator: Evaluator, rng: random.Random, population_size: int = 10, sample_size: int = 3
) -> Nb201Arch:
    population: collections.deque[tuple[Nb201Arch, float]] = collections.deque()
    history: list[tuple[Nb201Arch, float]] = []
    # The initial population is evaluated without a budget check (it is far below 12,000 s).
    while len(population) < population_size:
        arch = Nb201Arch.sample(rng)
        member = (arch, evaluator.evaluate(arch, enforce_budget=False).score)
        population.append(member)
        history.append(member)
    while True:
        sample = [rng.choice(population) for _ in range(sample_size)]
        parent = max(sample, key=lambda m: m[1])
        child = parent[0].mutate(rng)
        result = evaluator.evaluate(child)
        if result is None:  # the budget is spent
            break
        population.append((child, result.score))
        history.append((child, result.score))
        population.popleft()  # aging: the oldest dies, not the worst
    return max(history, key=lambda m: m[1])[0]
