"""Which NASWOT runs sample a given NB-201 cell, found without scoring anything.

A NASWOT run's random draws (its batch, then its N cell codes) come from its run seed alone
(``reproductions.naswot.search.draw_run``), so the seeds whose sample holds a cell can be
listed for any number of runs in seconds. With ``--score``, the cell's score in each of
those runs is replayed too (``replay_cell_score``: one score per run, not a search), which
says whether a run that chose another cell ranked it lower. Used in
``reproductions/naswot/README.md`` for the all-1x1 cell of the N=1000 rows. Run:

    python scripts/naswot_sampled_cell.py --data data/cifar10_yoongikim_jpegq75_small.npz \\
        --samples 1000 --runs-per-seed 1 --seeds 500 [--score]
"""

import argparse

from common.scores.batches import load_image_pool
from common.search.nb201_protocol import RUN_SEED_STRIDE
from common.spaces.nb201.arch import NUM_ARCHS, Nb201Arch
from reproductions.naswot.search import NaswotSettings, cells, draw_run, replay_cell_score

ALL_1X1 = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the CIFAR-10 image pool (.npz) the runs use")
    ap.add_argument("--cell", default=ALL_1X1, help="NB-201 arch string (default: all 1x1)")
    ap.add_argument("--samples", type=int, default=1000, help="N, cells sampled per run")
    ap.add_argument("--runs-per-seed", type=int, default=1, help="searches per seed (1 or 20)")
    ap.add_argument("--seeds", type=int, default=500, help="seeds 0 .. SEEDS-1")
    ap.add_argument("--score", action="store_true", help="replay the cell's score in each run")
    args = ap.parse_args()
    code = cells().index(Nb201Arch.parse(args.cell))
    pool = load_image_pool(args.data)
    settings = NaswotSettings(num_samples=args.samples)
    hits = []
    for seed in range(args.seeds):
        for run in range(args.runs_per_seed):
            _, codes = draw_run(pool, settings, seed * RUN_SEED_STRIDE + run)
            if code in codes:
                hits.append((seed, run))
    runs = args.seeds * args.runs_per_seed
    expected = runs * (1 - (1 - 1 / NUM_ARCHS) ** args.samples)
    print(f"cell {args.cell} (code {code}), N={args.samples}")
    print(f"in the sample of {len(hits)} of {runs} runs (uniform sampling expects {expected:.1f})")
    print("seed, run: " + " ".join(f"{s},{r}" for s, r in hits))
    if args.score:
        print("seed, run, the cell's score on the run's batch (CPU, NHWC):")
        for seed, run in hits:
            score = replay_cell_score(pool, settings, seed * RUN_SEED_STRIDE + run, code)
            print(f"{seed}, {run}, {score:.4f}", flush=True)


if __name__ == "__main__":
    main()
