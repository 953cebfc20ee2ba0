"""The NAS-Bench-201 protocol for query-based searches (Dong & Yang, ICLR 2020, Sect. 5).

A search sees only ``QuerySession.query``: the 12-epoch validation accuracy of an architecture
on ``cifar10-valid`` and the simulated time that training would have cost, within a budget
of 12,000 s. The architecture it returns is then looked up, uncounted, in the 200-epoch
results on all three datasets. Repeating this ``num_runs`` times with different seeds gives
the mean +- std that the NB-201 paper reports for RS, REA and REINFORCE.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from common.benchmarks.nb201 import Nb201Benchmark, QuerySession
from common.spaces.nb201.arch import Nb201Arch

RUN_SEED_STRIDE = 1_000_003  # run i of seed s is seeded s * stride + i
SearchFn = Callable[[QuerySession, random.Random], Nb201Arch]


@dataclass(frozen=True)
class Nb201Protocol:
    """What a search optimises, what it may spend, and what is reported (all recorded)."""

    signal: str = "cifar10_valid_12ep"
    time_column: str = "cifar10valid_train_time_s"
    time_scale: float = 0.06  # 12 of 200 epochs: the table stores the 200-epoch training time
    time_budget_s: float = 12000.0
    num_runs: int = 500
    report_columns: tuple[str, ...] = (
        "cifar10_valid",
        "cifar10_test",
        "cifar100_test",
        "imagenet16_test",
    )
    selection: str = "highest search signal among the queried architectures"

    def as_record(self) -> dict:
        return {**asdict(self), "report_columns": list(self.report_columns)}


def run_protocol(
    search: SearchFn, bench: Nb201Benchmark, protocol: Nb201Protocol, seed: int
) -> dict:
    """Run ``protocol.num_runs`` independent searches (run ``i`` seeded ``seed * RUN_SEED_STRIDE + i``).

    Returns per-run lists: the final 200-epoch metrics of each found architecture, its arch
    string, the queries and simulated seconds spent, and the search's own wall-clock.
    """
    out: dict = {c: [] for c in protocol.report_columns}
    out.update(arch=[], num_queries=[], simulated_time_s=[], search_wall_s=[])
    for run in range(protocol.num_runs):
        session = bench.session(
            protocol.signal, protocol.time_column, protocol.time_scale, protocol.time_budget_s
        )
        start = time.perf_counter()
        best = search(session, random.Random(seed * RUN_SEED_STRIDE + run))
        out["search_wall_s"].append(time.perf_counter() - start)
        if session.num_queries == 0:
            raise RuntimeError("search returned an architecture without querying any")
        for column in protocol.report_columns:
            out[column].append(bench.value(best, column))
        out["arch"].append(str(best))
        out["num_queries"].append(session.num_queries)
        out["simulated_time_s"].append(session.simulated_time_s)
    return out


def found_summary(archs: list[str]) -> dict:
    """The cell each run found, in run order, with how many differ and the most frequent
    (ties go to the first in sorted order)."""
    found, counts = np.unique(archs, return_counts=True)
    return {
        "found_archs": list(archs),
        "distinct_found_archs": int(len(found)),
        "most_found_arch": str(found[counts.argmax()]),
    }


def summarize(values: list[float]) -> dict:
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "std": float(arr.std()), "n": int(arr.size)}
