"""Random search (RS) on NAS-Bench-201, as the NB-201 paper runs it (Dong & Yang, ICLR 2020,
Sect. 5; Bergstra & Bengio, JMLR 2012 for the method).

Sample cells uniformly from all 15,625, query each until the next query would overrun the
time budget, and return the one with the highest search signal.
"""

from __future__ import annotations

import random

from common.benchmarks.nb201 import QuerySession
from common.spaces.nb201.arch import Nb201Arch


def random_search(session: QuerySession, rng: random.Random) -> Nb201Arch:
    best, best_acc = None, float("-inf")
    while True:
        arch = Nb201Arch.sample(rng)
        acc = session.query(arch)
        if acc is None:  # the budget is spent
            break
        if acc > best_acc:
            best, best_acc = arch, acc
    if best is None:
        raise RuntimeError("time budget too small for a single query")
    return best
