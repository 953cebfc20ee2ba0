"""One harness for every experiment that repeats a search N times (RS, REA, REINFORCE, NASWOT,
TE-NAS): a paper's table row is the mean +- std of the found architectures over the runs.

A task hands ``repeated_search`` one function, ``search(run, run_seed) -> Found``: one search,
seeded by ``run_seed`` alone. The harness owns what all of them share: the per-run seeds, the
search's wall-clock, each found architecture's final metrics (looked up, uncounted, by the
task's ``final_metrics``: an NB-201 table row, a parameter count), a log line per run, a
progress bar with a rate and an ETA, ``runs.csv`` (one row per run, one shape for every task)
and the record fields every such record carries (``Runs.record``). What is a paper's own (its
settings, its diagnostics such as NASWOT's Kendall tau or TE-NAS's pruning history) stays in
its task, built from ``Found.details``.

Resume: with a logger, each finished run is appended to ``runs.jsonl`` in the run folder as
it ends (arch as its string, the final metrics, the task's numbers and ``details`` made plain
JSON). A resumed run (``nasrepro ... resume=<run dir>``) takes the runs found there instead of
searching again; since a run depends on its run seed alone, the record is the same as an
uninterrupted run's. A restored run's ``arch`` is its string (``str(arch)`` is all the
harness and the record use) and its ``details`` the JSON form of what the task returned.

Seeds, the project's one convention for repeated runs: run ``i`` of an experiment started with
``seed=s`` is seeded ``run_seed(s, i) = s * RUN_SEED_STRIDE + i``. The stride is a prime above
any run count we use, so the runs of seed ``s`` never reuse a seed of the runs of another
seed (as ``s * 100 + i`` would past 100 runs). Every committed repeated-search record (RS,
REA, REINFORCE, NASWOT, TE-NAS on NB-201 and on the DARTS space) was made with it, which is
why it stays. A run's data (split, shuffling) follows the experiment's ``seed`` through
``data.seed: ${seed}`` (``conf/data``), not the run seed, unless an experiment pins
``data.seed`` (with a comment saying why).

The inner loops of other experiments use it too: the DARTS searches before selection
(``reproductions/darts/stages.py``) and the candidates of random search with training
(``reproductions/random_search/trained.py``) were seeded ``seed * 100 + i`` and
``seed * 1000 + i`` before; their committed records are all ``seed=0``, where the old and the
new seeds are equal. Retrain seeds are a different thing: an experiment's ``seed`` and the
``retrain.num_seeds - 1`` seeds after it, one retrained network each.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from common import resume
from common.results.logging import RunLogger

RUN_SEED_STRIDE = 1_000_003  # a prime; see the module docstring
RUN_SEEDS = f"seed * {RUN_SEED_STRIDE} + run"  # how records name the convention


def run_seed(seed: int, run: int) -> int:
    """The seed of run ``run`` of an experiment started with ``seed`` (module docstring)."""
    return seed * RUN_SEED_STRIDE + run


@dataclass(frozen=True)
class Found:
    """What one search hands the harness.

    ``diagnostics`` and ``cost``: the run's own numbers (e.g. NASWOT's top score, a query
    search's queries and simulated seconds); each becomes a ``runs.csv`` column and a summary
    over runs in the record (``cost`` ones as ``<name>_per_run``). ``details``: anything else
    the task needs for its own diagnostics; the harness only keeps it.
    """

    arch: Any
    diagnostics: dict[str, float] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)
    details: Any = None


@dataclass
class Runs:
    """Every run of one repeated search, in run order."""

    seed: int
    run_seeds: list[int] = field(default_factory=list)
    archs: list[Any] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    diagnostics: dict[str, list[float]] = field(default_factory=dict)
    cost: dict[str, list[float]] = field(default_factory=dict)
    search_s: list[float] = field(default_factory=list)
    details: list[Any] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.archs)

    def add(self, run_seed: int, found: Found, metrics: dict[str, float], search_s: float) -> None:
        self.run_seeds.append(run_seed)
        self.archs.append(found.arch)
        for target, values in (
            (self.metrics, metrics),
            (self.diagnostics, found.diagnostics),
            (self.cost, found.cost),
        ):
            for key, value in values.items():
                target.setdefault(key, []).append(value)
        self.search_s.append(search_s)
        self.details.append(found.details)

    def row(self, run: int) -> dict[str, Any]:
        """Run ``run`` as one ``runs.csv`` row: run, run_seed, arch, search_s, the task's own
        numbers, then the final metrics."""
        return {
            "run": run,
            "run_seed": self.run_seeds[run],
            "arch": str(self.archs[run]),
            "search_s": self.search_s[run],
            **{k: v[run] for k, v in self.diagnostics.items()},
            **{k: v[run] for k, v in self.cost.items()},
            **{k: v[run] for k, v in self.metrics.items()},
        }

    def write_csv(self, path) -> None:
        rows = [self.row(r) for r in range(len(self))]
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["run"])
            w.writeheader()
            w.writerows(rows)

    def record(self) -> dict[str, dict]:
        """The fields every repeated-search record shares; a task adds its own to each."""
        return {
            "metrics": {k: list(v) for k, v in self.metrics.items()},
            "protocol": {"num_searches": len(self), "run_seeds": RUN_SEEDS},
            "diagnostics": {
                **{k: summarize(v) for k, v in self.diagnostics.items()},
                **found_summary([str(a) for a in self.archs]),
            },
            "cost": {
                "search_s_per_run": summarize(self.search_s),
                "search_s_total": float(sum(self.search_s)),
                **{f"{k}_per_run": summarize(v) for k, v in self.cost.items()},
            },
        }


def repeated_search(
    search: Callable[[int, int], Found],
    final_metrics: Callable[[Any], dict[str, float]],
    num_runs: int,
    seed: int,
    logger: RunLogger | None = None,
    desc: str = "searches",
) -> Runs:
    """Run ``search(run, run_seed(seed, run))`` for ``run`` in ``0..num_runs-1``.

    With a ``logger``, each run is logged as it ends and ``runs.csv`` is written to the run
    folder at the end. The progress bar (stderr) shows runs done, their rate and the ETA.
    """
    runs = Runs(seed)
    units = None if logger is None else logger.run_dir / "runs.jsonl"
    finished = _start_units(units, resume.resuming(logger))
    bar = tqdm(range(num_runs), desc=desc, unit="search", mininterval=1.0, dynamic_ncols=True)
    for run in bar:
        rs = run_seed(seed, run)
        if run in finished:
            found, metrics, search_s = _restored(finished[run], rs)
        else:
            start = time.perf_counter()
            found = search(run, rs)
            search_s = time.perf_counter() - start
            metrics = final_metrics(found.arch)
            if units is not None:
                _append_unit(units, run, rs, found, metrics, search_s)
        runs.add(rs, found, metrics, search_s)
        if logger is not None:
            logger.log({**metrics, **found.diagnostics, **found.cost, "search_s": search_s}, run)
        if metrics:
            first = next(iter(metrics))
            bar.set_postfix_str(f"mean {first} {np.mean(runs.metrics[first]):.2f}", refresh=False)
    bar.close()
    if logger is not None:
        runs.write_csv(logger.run_dir / "runs.csv")
    return runs


def _plain(value: Any) -> Any:
    """``value`` as JSON can hold it: NumPy arrays and scalars as lists and numbers, any
    other object as its string."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _start_units(path, resuming: bool) -> dict[int, dict]:
    """The finished runs in ``path`` when resuming (a line cut by a kill is dropped and the
    file rewritten without it); otherwise an empty file."""
    if path is None:
        return {}
    entries: dict[int, dict] = {}
    if resuming and path.is_file():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                break  # the line a kill cut short: that run runs again
            entries[entry["run"]] = entry
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(e) + "\n" for e in entries.values()))
    os.replace(tmp, path)
    return entries


def _append_unit(path, run: int, rs: int, found: Found, metrics: dict, search_s: float) -> None:
    entry = {
        "run": run,
        "run_seed": rs,
        "arch": str(found.arch),
        "metrics": _plain(metrics),
        "diagnostics": _plain(found.diagnostics),
        "cost": _plain(found.cost),
        "search_s": search_s,
        "details": _plain(found.details),
    }
    with open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _restored(entry: dict, rs: int) -> tuple[Found, dict[str, float], float]:
    if entry["run_seed"] != rs:
        raise RuntimeError(f"runs.jsonl run {entry['run']} has seed {entry['run_seed']}, not {rs}")
    found = Found(entry["arch"], entry["diagnostics"], entry["cost"], entry["details"])
    return found, entry["metrics"], entry["search_s"]


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
