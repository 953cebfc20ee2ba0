"""Bootstrap intervals of a reproduction's pooled mean and std, beside the published numbers.

Pools every run of every canonical record of one experiment (as the leaderboard does) and
prints, per published number, our mean and std with 95% percentile bootstrap intervals over
the runs, and whether each interval holds the published value. Reads only ``results/`` and the
published records. Run:

    python scripts/pooled_interval.py naswot_nb201_cifar10-jpeg_n100_reduced
"""

from __future__ import annotations

import argparse
import math
import sys

from common.errors import NasReproError
from common.results import published
from common.results.intervals import mean_std_intervals
from common.results.leaderboard import REPO_ROOT, _pm, experiment_group


def _holds(ci: tuple[float, float], value: float | None) -> str:
    if value is None:
        return "—"
    return "yes" if ci[0] <= value <= ci[1] else "no"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "experiment", help="experiment name, as in results/<paper>/<experiment>__seedN.json"
    )
    ap.add_argument("--results", default=str(REPO_ROOT / "results"))
    ap.add_argument("--boot", type=int, default=10_000, help="bootstrap resamples")
    args = ap.parse_args(argv)
    if args.boot < 100:
        ap.error(f"--boot must be at least 100, got {args.boot}")
    try:
        group = experiment_group(args.results, args.experiment)
    except NasReproError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    runs = max(len(v) for v in group["metrics"].values())
    if runs < 20:
        print(
            f"warning: {runs} runs; a percentile bootstrap over so few understates the interval",
            file=sys.stderr,
        )
    print(
        f"{args.experiment}: seeds {sorted(group['seeds'])}; 95% percentile bootstrap, {args.boot} resamples of the runs"
    )
    print(
        "| metric | published | ours: mean [95% CI] | holds published mean | ours: std [95% CI] | holds published std |"
    )
    print("|---|---|---|---|---|---|")
    for res in published.results_for(args.experiment):
        # runs without a value (NaN) are left out, as the leaderboard's mean leaves them out
        values = [v for v in group["metrics"].get(res["metric"], []) if not math.isnan(v)]
        if len(values) < 2:
            continue
        s = mean_std_intervals(values, num_boot=args.boot)
        print(
            f"| {res['dataset']} | {_pm(res['value'], res.get('std'), res.get('n'))} "
            f"| {s['mean']:.2f} [{s['mean_ci'][0]:.2f}, {s['mean_ci'][1]:.2f}] (n={s['n']}) "
            f"| {_holds(s['mean_ci'], res['value'])} "
            f"| {s['std']:.2f} [{s['std_ci'][0]:.2f}, {s['std_ci'][1]:.2f}] "
            f"| {_holds(s['std_ci'], res.get('std'))} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
