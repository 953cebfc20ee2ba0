"""The NASWOT README's N=1000 paragraphs: the pooled row and the one cell that widens it.

The N=1000 records hold one search each: its found cell, its top score and the cell's table
values. The run notes list which runs' samples hold the cell (found without scoring by
``scripts/naswot_sampled_cell.py``) and the cell's replayed scores; from both, these
paragraphs count the runs the cell won and lost and compare a mix of our other runs and the
cell with the published row.
"""

from __future__ import annotations

import math

import numpy as np

from common.errors import NasReproError
from common.results.prose import and_list, interval
from common.results.run_tables import runs_of
from common.spaces.nb201.arch import NUM_ARCHS
from reproductions.naswot.report.prose import (
    METRICS,
    NAMES,
    cell_metrics,
    cell_runs,
    found_cells,
    holds,
    intervals,
    miss,
    numword,
    where_seeds,
)


def mix_with_cell(others: np.ndarray, cell: float, target: float) -> tuple[float, float]:
    """(p, std): the share p of runs on the cell that, mixed with runs spread as ``others``,
    gives the mean ``target``, and the population std of that mix."""
    m0, s0 = float(np.mean(others)), float(np.std(others))
    p = (m0 - target) / (m0 - cell)
    return p, math.sqrt((1 - p) * s0**2 + p * (1 - p) * (m0 - cell) ** 2)


def _ci_misses(kind: str, ints: dict, pub: dict) -> list[str]:
    value = "value" if kind == "mean" else "std"
    return [
        f"{NAMES[m]}'s {interval(ints[m][kind + '_ci'])} misses {pub[m][value]:.2f} by"
        f" {miss(ints[m][kind + '_ci'], pub[m][value]):.2f}"
        for m in METRICS
        if not holds(ints[m][kind + "_ci"], pub[m][value])
    ]


def n1000(ctx) -> str:
    exp = ctx.exp(1000)
    recs = ctx.records(exp)
    runs, n = sum(runs_of(r) for r in recs), recs[0]["protocol"]["num_samples"]
    pub = {m: ctx.pub(exp, m) for m in METRICS}
    mean = {m: ctx.values(exp, m).mean() for m in METRICS}
    std = {m: ctx.values(exp, m).std() for m in METRICS}
    if any(
        abs(mean[m] - pub[m]["value"]) > pub[m].get("tolerance", pub[m]["std"]) for m in METRICS
    ):
        raise NasReproError("N=1000: a pooled mean left the published band; rewrite")
    if any(std[m] > pub[m]["std"] for m in METRICS):
        raise NasReproError("N=1000: a pooled std is larger than the published one; rewrite")
    if set(ctx.notes.cell.strip("|").replace("+", "|").split("|")) - {
        "nor_conv_1x1~0",
        "nor_conv_1x1~1",
        "nor_conv_1x1~2",
        "",
    }:
        raise NasReproError("the run notes' cell is not the all-1x1 cell the paragraph names")
    wins, _ = cell_runs(ctx, exp)
    top = {r["seed"]: r["diagnostics"]["top_score"]["mean"] for r in recs}
    others = np.array([r["metrics"]["cifar10_test"][0] for r in recs if r["seed"] not in wins])
    ints = intervals(ctx, exp)
    hold = [NAMES[m] for m in METRICS if holds(ints[m]["mean_ci"], pub[m]["value"])]
    means = [
        f"{NAMES[m]} ({interval(ints[m]['mean_ci'])} against {pub[m]['value']:.2f}, by"
        f" {miss(ints[m]['mean_ci'], pub[m]['value']):.2f})"
        for m in METRICS
        if not holds(ints[m]["mean_ci"], pub[m]["value"])
    ]
    mean_text = (
        f"holds the published mean on {and_list(hold)}" if hold else "misses the published mean"
    )
    if means:
        mean_text += f"{' and misses it' if hold else ''} on {and_list(means)}"
    stds = _ci_misses("std", ints, pub)
    std_text = "the std intervals hold the published std" + (
        f" but {and_list(stds)}" if stds else ""
    )
    one_by_one = sum(c.count("nor_conv_1x1") >= 3 for c in found_cells(recs))
    cell = cell_metrics(ctx, exp)
    return f"""N=1000 has the paper's {runs} runs as well, as {len(recs)} seeds of one search
    ({where_seeds(recs)}; no two runs share a run seed). Its pooled means are within the
    published band on all four datasets (CIFAR-10 test {mean["cifar10_test"]:.2f} ±
    {std["cifar10_test"]:.2f} against {pub["cifar10_test"]["value"]:.2f} ±
    {pub["cifar10_test"]["std"]:.2f}), and its std is no larger than the published one,
    though {len(wins)} runs widen it: seeds {and_list(wins)} sampled the cell with a 1x1
    convolution on every edge, and each time it scored highest of the {n:,} samples
    ({", ".join(f"{top[s]:.1f}" for s in wins)}); it reaches only {cell["cifar10_test"]:.2f}
    on CIFAR-10. Without those {len(wins)} runs the {others.size} others give
    {others.mean():.2f}. The 95% bootstrap interval of our mean {mean_text}; {std_text}
    (`python scripts/pooled_interval.py {exp}`; CIFAR-10 test
    {interval(ints["cifar10_test"]["mean_ci"])}). At N=1000 the winners lean to 1x1
    convolutions ({one_by_one} of the {runs} have three or more of six edges)."""


def sampled_cell(ctx) -> str:
    exp = ctx.exp(1000)
    recs = ctx.records(exp)
    spec = ctx.notes.sampled[exp]
    runs, n = sum(runs_of(r) for r in recs), recs[0]["protocol"]["num_samples"]
    wins, draws = cell_runs(ctx, exp)
    lost = [s for s in draws if s not in wins]
    if not set(draws) <= {r["seed"] for r in recs}:
        raise NasReproError(f"{exp}: the run notes list sampled seeds that have no record")
    top = {r["seed"]: r["diagnostics"]["top_score"]["mean"] for r in recs}
    note = spec["runs"]
    if any(note[s]["replayed"] >= top[s] for s in lost):
        raise NasReproError("a run that drew the cell and lost replays above its choice; rewrite")
    q = 1 - (1 - 1 / NUM_ARCHS) ** n
    listed = spec["seeds_listed"]
    namely = draws if len(draws) <= 11 else [*draws[:10], "...", draws[-1]]
    before = [s for s in draws if note[s].get("listed_before_run")]
    replayed = [s for s in draws if note[s].get("replayed_before_run")]
    c10, pub = cell_metrics(ctx, exp)["cifar10_test"], ctx.pub(exp, "cifar10_test")
    rest = np.array([r["metrics"]["cifar10_test"][0] for r in recs if r["seed"] not in wins])
    m0, s0 = rest.mean(), rest.std()
    p, mix_std = mix_with_cell(rest, c10, pub["value"])
    expect_pub = pub["n"] * q
    return f"""Is that cell over-represented here? A run's sample depends on its run seed alone
    (`draw_run` in `search.py`; a test checks it against every N=1000 record), so `python
    scripts/naswot_sampled_cell.py --data data/cifar10_yoongikim_jpegq75_small.npz` lists,
    without scoring anything, which of seeds {listed[0]}-{listed[-1]} sample
    {ctx.notes.cell_name}: {len(draws)} of them (uniform sampling with replacement expects
    {len(listed)} x (1 - (1 - 1/{NUM_ARCHS})^{n}) = {len(listed) * q:.0f}), namely
    {", ".join(map(str, namely))}, all of them among our {runs} runs. The cell won
    {len(wins)} of those {len(draws)} runs. In the {numword(len(lost))} others it scored
    below the cell chosen (its score replayed with `--score`, which gives each of the
    {len(wins)} winners' recorded scores back to within {spec["replay_agrees_within"]:g}:
    {"; ".join(f"seed {s}: {note[s]['replayed']:.1f} against {top[s]:.1f}" for s in lost)}).
    Seeds {and_list(before)} were on this list before they ran:
    {and_list(s for s in before if s in wins)} chose the cell,
    {and_list(s for s in before if s not in wins)} did not. The replays of seeds
    {and_list(replayed)} ({and_list(f"{note[s]['replayed']:.2f}" for s in replayed)}) were
    made before those seeds ran. So how far this cell pulls the N=1000 pooled mean down
    depends on how many of the runs drew it, not on the scoring. The published row itself
    fits this picture: a mix of our other {rest.size} runs ({m0:.2f} ± {s0:.2f}) and a share
    p of runs on {ctx.notes.cell_name} ({c10:.2f}) gives the published mean
    {pub["value"]:.2f} at p = {p:.1%}, and then a std of {mix_std:.2f} (published
    {pub["std"]:.2f}); that is about {p * pub["n"]:.0f} of the paper's {pub["n"]} runs, while
    uniform sampling puts the cell in about {expect_pub:.0f}, so, if the paper's other runs
    spread like ours, the cell won about {p * pub["n"] / expect_pub:.0%} of the runs that
    drew it (here {len(wins)} of {len(draws)}). This is arithmetic on the published row, not
    a measurement."""
