"""Random search (RS) on NAS-Bench-201, as the NB-201 paper runs it (Dong & Yang, ICLR 2020,
Sect. 5; Bergstra & Bengio, JMLR 2012 for the method).

Sample cells uniformly from all 15,625, evaluate each until the evaluator refuses (under the
NB-201 protocol: the next query would overrun the time budget), and return the one with the
highest score.
"""

from __future__ import annotations

import random

from common.evaluators.base import Evaluator
from common.spaces.nb201.arch import Nb201Arch


def random_search(evaluator: Evaluator, rng: random.Random) -> Nb201Arch:
    best, best_score = None, float("-inf")
    while True:
        arch = Nb201Arch.sample(rng)
        result = evaluator.evaluate(arch)
        if result is None:  # the budget is spent
            break
        if result.score > best_score:
            best, best_score = arch, result.score
    if best is None:
        raise RuntimeError("time budget too small for a single query")
    return best
