"""Which NASWOT runs sample a given NB-201 cell, found without scoring anything.

A NASWOT run's random draws (its batch, then its N cell codes) come from its run seed alone
(``reproductions.naswot.search.draw_run``), so the seeds whose sample holds a cell can be
listed for any number of runs in seconds. With ``--score``, the cell's score in each of
those runs is replayed too (``replay_cell_score``: one score per run, not a search), which
says whether a run that chose another cell ranked it lower. With ``--what-if EXPERIMENT``,
the pooled std of that experiment's committed runs is recomputed as if each run had drawn
the cell with the probability uniform sampling gives and chosen it (its NB-201 table values
from ``--benchmark``): how much of a spread the draw of this one cell can explain. Used in
``reproductions/naswot/README.md`` for the all-1x1 cell of the N=1000 and N=100 rows. Run:

    python scripts/naswot_sampled_cell.py --data data/cifar10_yoongikim_jpegq75_small.npz \\
        --samples 1000 --runs-per-seed 1 --seeds 500 [--score]
    python scripts/naswot_sampled_cell.py --data data/cifar10_yoongikim_jpegq75_small.npz \\
        --samples 100 --runs-per-seed 20 --seeds 25 \\
        --what-if naswot_nb201_cifar10-jpeg_n100_reduced --benchmark data/nb201.csv.gz
"""

import argparse
import sys

import numpy as np

from common.benchmarks.nb201 import Nb201Benchmark
from common.data.pool import experiment_pool
from common.errors import NasReproError
from common.protocols.repeated import run_seed
from common.results.leaderboard import REPO_ROOT, experiment_group
from common.spaces.nb201.arch import NUM_ARCHS, Nb201Arch
from reproductions.naswot.report.prose import std_if_drawn
from reproductions.naswot.search import NaswotSettings, cells, draw_run, replay_cell_score

NASWOT_EXPERIMENT = "naswot_nb201_cifar10-jpeg_n10"  # its data module is every NASWOT row's
ALL_1X1 = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|"


def what_if(group: dict, name: str, cell: Nb201Arch, q: float, bench: Nb201Benchmark) -> None:
    """Print, per metric of one experiment's pooled runs, the std now and with the cell drawn."""
    print(f"{name}: pooled std now, and if each run drew the cell with p={q:.4f} and chose it")
    print("metric, cell's table value, std now, mean std over 10,000 draws [2.5%, 97.5%]")
    for metric, values in group["metrics"].items():
        cell_value = bench.value(cell, metric)
        stds = std_if_drawn(values, cell_value, q)
        lo, hi = np.percentile(stds, [2.5, 97.5])
        print(
            f"{metric}, {cell_value:.2f}, {np.std(values):.3f},"
            f" {stds.mean():.3f} [{lo:.3f}, {hi:.3f}]"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data", required=True, help="folder of the runs' images (data_root), or their .npz"
    )
    ap.add_argument("--cell", default=ALL_1X1, help="NB-201 arch string (default: all 1x1)")
    ap.add_argument("--samples", type=int, default=1000, help="N, cells sampled per run")
    ap.add_argument("--runs-per-seed", type=int, default=1, help="searches per seed (1 or 20)")
    ap.add_argument("--seeds", type=int, default=500, help="seeds 0 .. SEEDS-1")
    ap.add_argument("--score", action="store_true", help="replay the cell's score in each run")
    ap.add_argument("--what-if", metavar="EXPERIMENT", help="recompute this experiment's std")
    ap.add_argument("--benchmark", help="the NB-201 table (nb201.csv.gz), with --what-if")
    ap.add_argument("--results", default=str(REPO_ROOT / "results"))
    args = ap.parse_args(argv)
    if args.what_if and not args.benchmark:
        ap.error("--what-if needs --benchmark, the NB-201 table (nb201.csv.gz)")
    try:
        return run(args)
    except NasReproError as e:  # a bad cell, experiment or file: one line, exit 2
        print(f"error: {e}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    group = bench = None
    if args.what_if:  # checked before the draws, which take seconds
        group = experiment_group(args.results, args.what_if)
        bench = Nb201Benchmark.from_csv(args.benchmark)
    cell = Nb201Arch.parse(args.cell)
    code = cells().index(cell)
    pool = experiment_pool(NASWOT_EXPERIMENT, args.data)
    # The committed records were scored with the project's first definition: replay them so.
    settings = NaswotSettings(num_samples=args.samples, hooks="relu_modules", weights="sequential")
    hits = []
    for seed in range(args.seeds):
        for run in range(args.runs_per_seed):
            _, codes = draw_run(pool, settings, run_seed(seed, run))
            if code in codes:
                hits.append((seed, run))
    runs = args.seeds * args.runs_per_seed
    q = 1 - (1 - 1 / NUM_ARCHS) ** args.samples  # the chance a run's sample holds the cell
    expected = runs * q
    print(f"cell {args.cell} (code {code}), N={args.samples}")
    print(f"in the sample of {len(hits)} of {runs} runs (uniform sampling expects {expected:.1f})")
    print("seed, run: " + " ".join(f"{s},{r}" for s, r in hits))
    if args.score:
        print("seed, run, the cell's score on the run's batch (CPU, NHWC):")
        for seed, run in hits:
            score = replay_cell_score(pool, settings, run_seed(seed, run), code)
            print(f"{seed}, {run}, {score:.4f}", flush=True)
    if args.what_if:
        what_if(group, args.what_if, cell, q, bench)
    return 0


if __name__ == "__main__":
    sys.exit(main())
