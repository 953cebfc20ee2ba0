"""The NASWOT README's result paragraphs, written from the run records (see readme.py).

Each function returns one paragraph: the README's wording with every number computed from the
records (metrics, diagnostics, cost), the published record and the run notes. Bootstrap
intervals are those of ``scripts/pooled_interval.py`` (10,000 resamples, seed 0), the what-if
stds those of ``scripts/naswot_sampled_cell.py --what-if`` (10,000 draws, seed 0).
"""

from __future__ import annotations

import math

import numpy as np

from common.errors import NasReproError
from common.results.intervals import mean_std_intervals
from common.results.prose import (
    and_list,
    fraction_words,
    interval,
    per_search,
    seeds_label,
    seeds_phrase,
    span,
)
from common.results.run_tables import is_cuda, runs_of, threads_label
from common.spaces.nb201.arch import NUM_ARCHS

METRICS = ("cifar10_valid", "cifar10_test", "cifar100_test", "imagenet16_test")
NAMES = dict(zip(METRICS, ("CIFAR-10 valid", "CIFAR-10 test", "CIFAR-100", "ImageNet16-120")))
PREFIX = "naswot_nb201_cifar10-jpeg_n"
WORDS = "no one two three four five six seven eight nine ten eleven twelve".split()
BOOT = 10_000


def numword(k: int) -> str:
    return WORDS[k] if k < len(WORDS) else str(k)


def spelled(label: str) -> str:
    """``1 CPU thread`` -> ``one CPU thread``."""
    head, _, rest = label.partition(" ")
    return f"{numword(int(head))} {rest}" if head.isdigit() else label


def host_label(name: str | None) -> str:
    return "the slower host" if name is None else f"the {name} host"


def where_seeds(recs: list[dict]) -> str:
    """``seed 0 on the H100, seeds 1-24 on the CPU``."""
    by: dict[str, list[int]] = {}
    for r in recs:
        by.setdefault(threads_label(r) if is_cuda(r) else "CPU", []).append(r["seed"])
    return ", ".join(f"{seeds_label(s)} on the {kind}" for kind, s in by.items())


def all_run(ctx, n: int) -> str:
    recs = ctx.records(ctx.exp(n))
    seeds, runs = [r["seed"] for r in recs], sum(runs_of(r) for r in recs)
    planned = ctx.pub(ctx.exp(n), "cifar10_test")["n"]
    done = "all run" if runs == planned else f"{runs} of {planned} runs"
    return f"seeds {seeds_phrase(seeds)}, {done}"


def found_cells(recs: list[dict]) -> list[str]:
    """The cell each run found, in seed and run order (``most_found_arch`` for 1-run records
    made before records listed ``found_archs``)."""
    out = []
    for r in sorted(recs, key=lambda r: r["seed"]):
        found = r["diagnostics"].get("found_archs")
        if found is None and runs_of(r) == 1:
            found = [r["diagnostics"]["most_found_arch"]]
        if found is None:
            raise NasReproError(f"{r['experiment']} seed {r['seed']}: no found_archs")
        out += found
    return out


def within(ctx, exp: str) -> float:
    """The largest |our mean - published mean| over the four metrics as the tables print it
    (two decimals), rounded up to a tenth of a point."""
    worst = max(abs(ctx.values(exp, m).mean() - ctx.pub(exp, m)["value"]) for m in METRICS)
    return math.ceil(round(worst, 2) * 10 - 1e-9) / 10


def intervals(ctx, exp: str) -> dict[str, dict]:
    return {m: mean_std_intervals(ctx.values(exp, m), num_boot=BOOT) for m in METRICS}


def holds(ci: tuple[float, float], value: float) -> bool:
    return ci[0] <= value <= ci[1]


def miss(ci: tuple[float, float], value: float) -> float:
    return ci[0] - value if value < ci[0] else value - ci[1]


def n10(ctx) -> str:
    exp, red = ctx.exp(10, reduced=False), ctx.exp(10)
    rec = ctx.records(exp)[0]
    runs, r = runs_of(rec), runs_of(ctx.records(red)[0])
    ints = intervals(ctx, exp)
    if not all(holds(ints[m]["std_ci"], ctx.pub(exp, m)["std"]) for m in METRICS):
        raise NasReproError("N=10: a published std left our interval; rewrite 'the stds agree'")
    if any(
        abs(ctx.values(red, m).mean() - ctx.pub(red, m)["value"]) > ctx.pub(red, m)["std"]
        for m in METRICS
    ):
        raise NasReproError("N=10 reduced: a mean left one published std; rewrite the sentence")
    std = {m: f"{ints[m]['std']:.2f} against {ctx.pub(exp, m)['std']:.2f}" for m in METRICS}
    tau = ctx.published["kendall_tau"]
    return f"""At the paper's {runs} runs (N=10) every mean is within {within(ctx, exp):.1f}
    point of the published one and the stds agree ({std["cifar10_test"]} on CIFAR-10,
    {std["imagenet16_test"]} on ImageNet16-120): the JPEG images change nothing visible. The
    {r}-run reduced records are within one published std too (a {r}-run mean has a standard
    error of about std/{math.sqrt(r):.1f}). As a check of the score itself, Kendall's tau
    between the score and `cifar10_valid` over all cells scored in the {runs}-run N=10
    experiment ({rec["cost"]["cells_scored"]:,} cells, each on its run's batch) is
    {rec["diagnostics"]["kendall_tau_score_vs_cifar10_valid"]:.3f}; the paper's
    {tau["where"]} gives {tau["value"]:.3f} for NB-201 CIFAR-10 ({tau["note"]}). The {runs}
    searches found {rec["diagnostics"]["distinct_found_archs"]} distinct cells."""


def n100(ctx) -> str:
    exp, big = ctx.exp(100), ctx.exp(1000)
    recs = ctx.records(exp)
    runs, per = sum(runs_of(r) for r in recs), runs_of(recs[0])
    ints, pub = intervals(ctx, exp), {m: ctx.pub(exp, m) for m in METRICS}
    if not all(holds(ints[m]["mean_ci"], pub[m]["value"]) for m in METRICS):
        raise NasReproError("N=100: a mean interval misses the published mean; rewrite")
    if not all(ints[m]["std"] < pub[m]["std"] for m in METRICS):
        raise NasReproError("N=100: our std is no longer smaller on every metric; rewrite")
    out = [m for m in METRICS if not holds(ints[m]["std_ci"], pub[m]["std"])]
    inside = [NAMES[m] for m in METRICS if m not in out]
    just = (
        "just "
        if all(miss(ints[m]["std_ci"], pub[m]["std"]) < 0.1 * pub[m]["std"] for m in out)
        else ""
    )
    pairs = and_list(f"{ints[m]['std']:.2f} against {pub[m]['std']:.2f} on {NAMES[m]}" for m in out)
    cis = and_list(interval(ints[m]["std_ci"]) for m in out)
    stds = (
        f"""Our stds are smaller: {pairs}, and those {numword(len(out))} published stds lie
        {just}outside our intervals ({cis}); on {and_list(inside)} the intervals hold them."""
        if out
        else "Our stds are smaller; our intervals hold them."
    )
    i10 = intervals(ctx, ctx.exp(10, reduced=False))
    if not all(holds(i10[m]["std_ci"], ctx.pub(ctx.exp(10), m)["std"]) for m in METRICS):
        raise NasReproError("N=10: a published std left our interval; rewrite")
    sampled, n = ctx.notes.sampled[exp]["runs"], recs[0]["protocol"]["num_samples"]
    if sampled:
        raise NasReproError("an N=100 run sampled the cell: rewrite the what-if sentence")
    q = 1 - (1 - 1 / NUM_ARCHS) ** n
    wins, draws = cell_runs(ctx, big)
    if not 2 * len(wins) > len(draws):
        raise NasReproError("the cell no longer wins most N=1000 runs that draw it; rewrite")
    cell = cell_metrics(ctx, big)
    now = {m: ctx.values(exp, m).std() for m in METRICS}
    what = {m: std_if_drawn(ctx.values(exp, m), cell[m], q).mean() for m in METRICS}
    share = {m: (what[m] - now[m]) / (pub[m]["std"] - now[m]) for m in METRICS}
    c10, in16 = "cifar10_test", "imagenet16_test"
    return f"""N=100 has the paper's {runs} runs too, as {len(recs)} seeds of {per} searches
    ({where_seeds(recs)}; no two runs share a run seed). Every mean is within
    {within(ctx, exp):.1f} point of the published one, and the 95% bootstrap interval of each
    of our four means holds the published mean (`python scripts/pooled_interval.py {exp}`,
    {BOOT:,} resamples of the {runs} runs; CIFAR-10 test {ints[c10]["mean"]:.2f}
    {interval(ints[c10]["mean_ci"])} against {pub[c10]["value"]:.2f}). {stds} At N=10 all four
    published stds lie inside our intervals. Part of the smaller N=100 spread is the draw:
    none of our {runs} N=100 runs sampled {ctx.notes.cell_name}, the low-accuracy cell that
    wins most of the N=1000 runs that draw it ({len(wins)} of {len(draws)}, below), where
    uniform sampling expects {runs * q:.1f} such runs and draws none with a chance of
    {(1 - q) ** runs:.0%}. Had each run drawn it with that chance and chosen it, the CIFAR-10
    test std would be {what[c10]:.2f} on average ({now[c10]:.2f} now, {pub[c10]["std"]:.2f}
    published) and the ImageNet16-120 one {what[in16]:.2f} ({now[in16]:.2f} now,
    {pub[in16]["std"]:.2f} published): `python scripts/naswot_sampled_cell.py --data
    data/cifar10_yoongikim_jpegq75_small.npz --samples {n} --runs-per-seed {per} --seeds
    {len(recs)} --what-if {exp} --benchmark data/nb201.csv.gz` ({BOOT:,} draws). That is
    about {fraction_words(share[c10])} of the CIFAR-10 gap and {fraction_words(share[in16])}
    of the ImageNet16-120 one."""


def cost(ctx, groups: list, n100_range: str) -> str:
    costs = ctx.published["search_cost"]["s_per_search"]
    n10 = ctx.records(ctx.exp(10, reduced=False))[0]
    gpu = [r for r in ctx.records(ctx.exp(100)) if is_cuda(r)]
    hosts, prev = [], None
    for g in groups:
        r = f"{span(*g.bounds())} s"
        if prev is not None and g.host == prev.host:
            hosts.append(f"{r} there with the {g.kernel} product")
        elif prev is not None and g.kernel == prev.kernel != "float32":
            hosts.append(f"{r} with it on {host_label(g.host)}")
        else:
            hosts.append(f"{r} on {host_label(g.host)}")
        prev = g
    gpu_text = "".join(
        f" On the {threads_label(r)}, an N=100 search took"
        f" {per_search(r['cost']['search_s_per_run']['mean'])} s."
        for r in gpu
    )
    return f"""Cost next to the paper's (one search, {ctx.published["search_cost"]["device"]}):
    N=10 took {per_search(n10["cost"]["search_s_per_run"]["mean"])} s per search here on
    {spelled(threads_label(n10))} ({costs[10]} s published), N=100 {n100_range} s in NHWC ({costs[100]} s), and
    an N=1000 search {and_list(hosts)} ({costs[1000]} s).{gpu_text}"""


def cell_runs(ctx, exp: str) -> tuple[list[int], list[int]]:
    """(seeds whose run chose the notes' cell, seeds whose sample holds it), 1-run records."""
    recs = ctx.records(exp)
    wins = [r["seed"] for r, c in zip(recs, found_cells(recs)) if c == ctx.notes.cell]
    draws = sorted(ctx.notes.sampled[exp]["runs"])
    if not set(wins) <= set(draws):
        raise NasReproError(
            f"{exp}: seeds {sorted(set(wins) - set(draws))} chose the cell"
            " but the run notes do not list them as sampling it"
        )
    return wins, draws


def cell_metrics(ctx, exp: str) -> dict[str, float]:
    """The cell's table values, read from a run that chose it."""
    wins, _ = cell_runs(ctx, exp)
    rec = next(r for r in ctx.records(exp) if r["seed"] == wins[0])
    return {m: rec["metrics"][m][0] for m in METRICS}


def std_if_drawn(
    values: np.ndarray, cell_value: float, q: float, draws: int = BOOT, seed: int = 0
) -> np.ndarray:
    """Pooled std of ``values`` after each run, independently with probability ``q``, is
    replaced by ``cell_value`` (as if it had drawn the cell and chosen it); one std per draw.
    ``scripts/naswot_sampled_cell.py`` prints the same numbers."""
    values = np.asarray(values, dtype=np.float64)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be a probability in [0, 1], got {q}")
    rng = np.random.default_rng(seed)
    swapped = rng.random((draws, values.size)) < q
    return np.where(swapped, cell_value, values).std(axis=1)
