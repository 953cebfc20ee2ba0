"""Benchmark: the full 500-run NB-201 reproductions of RS, REA and REINFORCE on this CPU.

Reports, per method, wall-clock of 500 searches, queries per second and the ratio of its
per-query time to a reference measured in the same process: a bare table lookup of the same
number of random architectures (the least any query-based search can cost). Run:

    python scripts/benchmark_nb201_searches.py --table /path/to/nb201.csv.gz
"""

import argparse
import random
import time

from common.benchmarks.nb201 import Nb201Benchmark
from common.protocols.nb201_query import Nb201Protocol, run_protocol
from common.spaces.nb201.arch import Nb201Arch
from reproductions.random_search.search import random_search
from reproductions.regularized_evolution.search import regularized_evolution
from reproductions.reinforce.search import reinforce

METHODS = {"RS": random_search, "REA": regularized_evolution, "REINFORCE": reinforce}


def reference_lookup_s(bench: Nb201Benchmark, n: int) -> float:
    rng = random.Random(0)
    archs = [Nb201Arch.sample(rng) for _ in range(n)]
    start = time.perf_counter()
    for arch in archs:
        bench.value(arch, "cifar10_valid_12ep")
    return (time.perf_counter() - start) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", default="data/nb201.csv.gz")
    ap.add_argument("--runs", type=int, default=500)
    args = ap.parse_args()
    total_start = time.perf_counter()
    start = time.perf_counter()
    bench = Nb201Benchmark.from_csv(args.table)
    load_s = time.perf_counter() - start
    ref = reference_lookup_s(bench, 20000)
    print(f"table load: {load_s:.2f} s; reference lookup: {ref * 1e6:.1f} us/query")
    print(f"{'method':10s} {'wall s':>8s} {'queries':>9s} {'queries/s':>10s} {'x lookup':>9s}")
    for name, fn in METHODS.items():
        start = time.perf_counter()
        out = run_protocol(fn, bench, Nb201Protocol(num_runs=args.runs), seed=0)
        wall = time.perf_counter() - start
        queries = sum(out.diagnostics["num_queries"])
        per_query = wall / queries
        print(f"{name:10s} {wall:8.2f} {queries:9d} {queries / wall:10.0f} {per_query / ref:9.1f}")
    print(
        f"all three, {args.runs} runs each, including table load: "
        f"{time.perf_counter() - total_start:.1f} s"
    )


if __name__ == "__main__":
    main()
