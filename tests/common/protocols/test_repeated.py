"""The repeated-search harness: run seeds, runs.csv, the shared record fields, and how a record
summarises the cells its runs found."""

import csv

import pytest

from common.protocols.repeated import (
    RUN_SEED_STRIDE,
    Found,
    found_summary,
    repeated_search,
    run_seed,
)


def test_found_summary_keeps_run_order_and_counts():
    runs = ["|b|", "|a|", "|b|", "|c|"]
    assert found_summary(runs) == {
        "found_archs": ["|b|", "|a|", "|b|", "|c|"],
        "distinct_found_archs": 3,
        "most_found_arch": "|b|",
    }


def test_found_summary_breaks_ties_by_sorted_order():
    assert found_summary(["|c|", "|a|"])["most_found_arch"] == "|a|"


def test_run_seeds_follow_the_one_convention():
    assert RUN_SEED_STRIDE == 1_000_003  # every committed repeated-search record depends on it
    assert run_seed(0, 4) == 4 and run_seed(3, 2) == 3 * 1_000_003 + 2


def test_harness_seeds_runs_writes_one_row_per_run_and_shared_record(tmp_path):
    """A fake search whose cell is its run seed: the harness hands each run its seed, looks
    the cell up, logs it, and writes runs.csv and the shared record fields."""
    logged = []

    class Logger:
        run_dir = tmp_path

        def log(self, metrics, step):
            logged.append((step, metrics))

    def search(run, seed):
        return Found(f"|cell{seed % 7}|", diagnostics={"seen": run}, cost={"sim_s": 2.0 * run})

    def lookup(arch):
        return {"acc": float(arch[5])}

    runs = repeated_search(search, lookup, num_runs=3, seed=2, logger=Logger())
    seeds = [2 * RUN_SEED_STRIDE + r for r in range(3)]
    assert runs.run_seeds == seeds
    assert runs.metrics == {"acc": [float(s % 7) for s in seeds]}
    assert [step for step, _ in logged] == [0, 1, 2] and set(logged[0][1]) == {
        "acc",
        "seen",
        "sim_s",
        "search_s",
    }
    with open(tmp_path / "runs.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["run", "run_seed", "arch", "search_s", "seen", "sim_s", "acc"]
    assert [int(r["run_seed"]) for r in rows] == seeds
    rec = runs.record()
    assert rec["metrics"] == runs.metrics
    assert rec["protocol"] == {"num_searches": 3, "run_seeds": "seed * 1000003 + run"}
    assert rec["diagnostics"]["seen"] == {
        "mean": 1.0,
        "std": pytest.approx(0.8165, abs=1e-4),
        "n": 3,
    }
    assert rec["diagnostics"]["found_archs"] == [str(a) for a in runs.archs]
    assert rec["cost"]["sim_s_per_run"]["mean"] == 2.0
    assert rec["cost"]["search_s_per_run"]["n"] == 3 and rec["cost"]["search_s_total"] >= 0
