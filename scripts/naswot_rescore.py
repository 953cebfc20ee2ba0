"""Does the fidelity fix of the NASWOT score move the NASWOT rows? Old definition (the
project's first: ``nn.ReLU`` outputs once each, ``hooks="relu_modules"``) against search.py's
(``hooks="official"``), on the same networks and batches.

``--mode tau``: the cells found by the first ``--records`` committed N=1000 records plus
``--random`` random cells, each network built after ``torch.manual_seed(run seed)`` and scored
on the batch of run ``run_seed(0, 0)`` by both definitions: Kendall tau between the two.
``--mode runs``: runs of the N=``--samples`` protocol (run seeds ``run_seed(0, r)``): the cell
each run chooses under the committed records' protocol (old hooks, sequential init), under
the old hooks with shared init, and under the new protocol (official hooks, shared init).
Run (each well under 5 minutes on one idle thread):

    python scripts/naswot_rescore.py --data /path/to/data --mode tau --records 20 --random 50
    python scripts/naswot_rescore.py --data /path/to/data --mode runs --samples 10 --runs 6
"""

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from common.data.pool import experiment_pool
from common.protocols.repeated import run_seed
from common.spaces.nb201.arch import NUM_ARCHS, Nb201Arch
from reproductions.naswot.search import (
    NaswotSettings,
    _layout,
    cells,
    draw_run,
    naswot_run,
    score_cell,
)

RESULTS = Path(__file__).resolve().parents[1] / "results" / "naswot"
N1000 = "naswot_nb201_cifar10-jpeg_n1000_reduced"


def found_cells(records: int) -> list[int]:
    codes = []
    for seed in range(records):
        rec = json.loads((RESULTS / f"{N1000}__seed{seed}.json").read_text())
        codes.append(cells().index(Nb201Arch.parse(rec["diagnostics"]["most_found_arch"])))
    return sorted(set(codes))


def mode_tau(pool, settings: NaswotSettings, records: int, random: int) -> None:
    found = found_cells(records)
    rng = np.random.default_rng(12345)
    codes = found + [int(c) for c in rng.integers(0, NUM_ARCHS, random)]
    s0 = run_seed(0, 0)
    x, _ = draw_run(pool, settings, s0)
    x = x.contiguous(memory_format=_layout(settings, "cpu"))
    old_s = replace(settings, hooks="relu_modules")
    old = np.array([score_cell(old_s, cells()[c], x, s0, "cpu") for c in codes])
    new = np.array([score_cell(settings, cells()[c], x, s0, "cpu") for c in codes])
    nf = len(found)
    print(f"{len(codes)} cells ({nf} found by N=1000 records 0-{records - 1}, {random} random)")
    print(f"Kendall tau old vs new, all: {stats.kendalltau(old, new).statistic:.4f}")
    print(f"  found cells only: {stats.kendalltau(old[:nf], new[:nf]).statistic:.4f}")
    print(f"  random cells only: {stats.kendalltau(old[nf:], new[nf:]).statistic:.4f}")
    diff = new - old
    print(
        f"new - old: mean {diff.mean():.2f}, min {diff.min():.2f}, max {diff.max():.2f};"
        f" relative {np.mean(diff / new) * 100:.2f}%"
    )
    print(
        f"argmax over the {len(codes)} cells: old {codes[old.argmax()]}, new {codes[new.argmax()]}"
    )


def mode_runs(pool, settings: NaswotSettings, samples: int, runs: int) -> None:
    settings = replace(settings, num_samples=samples)
    variants = {
        "records (old hooks, sequential init)": replace(
            settings, hooks="relu_modules", weights="sequential"
        ),
        "old hooks, shared init": replace(settings, hooks="relu_modules"),
        "new (official hooks, shared init)": settings,
    }
    changed = dict.fromkeys(variants, 0)
    taus = []
    for r in range(runs):
        s = run_seed(0, r)
        res = {name: naswot_run(pool, v, s, "cpu") for name, v in variants.items()}
        chosen = {name: str(out["arch"]) for name, out in res.items()}
        base = chosen["new (official hooks, shared init)"]
        a = res["old hooks, shared init"]["scores"]
        b = res["new (official hooks, shared init)"]["scores"]
        taus.append(stats.kendalltau(a, b).statistic)
        for name in variants:
            changed[name] += chosen[name] != base
        print(f"run {r} (seed {s}): " + "; ".join(f"{n}: {c}" for n, c in chosen.items()))
    print(f"N={samples}, {runs} runs: runs whose chosen cell differs from the new protocol's:")
    for name, n in changed.items():
        print(f"  {name}: {n}")
    print(f"Kendall tau old vs new hooks within a run (same networks): {np.round(taus, 4)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="data_root, or the .npz of the JPEG copy")
    ap.add_argument("--mode", choices=("tau", "runs"), required=True)
    ap.add_argument("--records", type=int, default=20)
    ap.add_argument("--random", type=int, default=50)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--runs", type=int, default=6)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    pool = experiment_pool("naswot_nb201_cifar10-jpeg_n10", args.data)
    settings = NaswotSettings()
    if args.mode == "tau":
        mode_tau(pool, settings, args.records, args.random)
    else:
        mode_runs(pool, settings, args.samples, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
