"""The generated blocks of reproductions/naswot/README.md: the table of runs, the per-host cost
table and the prose whose numbers come from the run records (NASWOT, Mellor et al., ICML 2021,
Table 2(a) rows N=10/100/1000).

Found through ``readme.blocks`` in ``reproductions/naswot/published.yaml`` (common never
imports a reproduction); it belongs to that paper and can move next to its README unchanged.
Every number here is computed from the records, the published record or the run notes
(``run_notes.yaml``); the wording around them is the README's. A sentence whose claim no
longer holds for the records raises instead of printing something false: rewrite it.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

import numpy as np

from common.errors import NasReproError
from common.results.leaderboard import aggregate
from common.results.prose import (
    and_list,
    fraction_words,
    secs,
    seeds_label,
    seeds_phrase,
    span,
)
from common.results.run_notes import RunNotes
from common.results.run_tables import (
    cost_groups,
    device_host,
    host,
    is_cuda,
    layout,
    loads,
    metric_cell,
    runs_of,
    threads_label,
    where,
)
from reproductions.naswot.report import cell as naswot_cell
from reproductions.naswot.report import prose as naswot_prose
from reproductions.naswot.report.prose import METRICS, PREFIX


def wrap(text: str) -> str:
    """A paragraph as the README wraps prose (95 columns, never inside a number range)."""
    glued = re.sub(r"(\d) (s|ms|h)\b", "\\1\u00a0\\2", " ".join(text.split()))
    filled = textwrap.fill(glued, width=95, break_on_hyphens=False, break_long_words=False)
    return filled.replace("\u00a0", " ")


@dataclass
class Ctx:
    """What every block reads: records by experiment, published numbers, the run notes."""

    groups: dict[str, dict]
    published: dict
    notes: RunNotes

    def records(self, exp: str) -> list[dict]:
        return sorted(self.groups[exp]["records"], key=lambda r: r["seed"])

    def exp(self, n: int, reduced: bool = True) -> str:
        return f"{PREFIX}{n}{'_reduced' if reduced else ''}"

    def values(self, exp: str, metric: str) -> np.ndarray:
        return np.asarray(self.groups[exp]["metrics"][metric], dtype=np.float64)

    def pub(self, exp: str, metric: str) -> dict:
        for res in self.published["results"]:
            if exp in res["experiments"] and res["metric"] == metric:
                return res
        raise NasReproError(f"no published {metric} for {exp}")

    def slower_host(self, exp: str) -> list[dict]:
        """NHWC CPU runs on the host the early records do not name (the slower one)."""
        return [
            r
            for r in self.records(exp)
            if not is_cuda(r) and layout(r) == "NHWC" and host(r, self.notes) is None
        ]


def n100_range(ctx: Ctx) -> str:
    s = [r["cost"]["search_s_per_run"]["mean"] for r in ctx.slower_host(ctx.exp(100))]
    return span(min(s), max(s))


def n1000_groups(ctx: Ctx) -> list:
    nhwc = [r for r in ctx.records(ctx.exp(1000)) if layout(r) == "NHWC"]
    return cost_groups(nhwc, ctx.notes)


# ---- the table of runs -----------------------------------------------------------------


def table_of_runs(ctx: Ctx) -> str:
    costs = ctx.published["search_cost"]
    head = "| experiment | N | runs | where, wall-clock | C10 valid | C10 test | C100 test | IN16 test |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for n in (10, 100, 1000):
        for exp in (ctx.exp(n, reduced=False), ctx.exp(n)):
            if exp not in ctx.groups:
                continue
            recs = ctx.records(exp)
            for r in recs:
                label = f"`{exp}`" + (f", seed {r['seed']}" if len(recs) > 1 else "")
                cells = [metric_cell(r["metrics"][m]) for m in METRICS]
                row = [label, str(n), str(runs_of(r)), where(r, ctx.notes), *cells]
                lines.append("| " + " | ".join(row) + " |")
            if len(recs) > 1:
                runs = sum(runs_of(r) for r in recs)
                cells = [metric_cell(ctx.values(exp, m).tolist()) for m in METRICS]
                row = [f"the {len(recs)} seeds pooled", str(n), str(runs), "", *cells]
                lines.append("| " + " | ".join(row) + " |")
        pubs = [ctx.pub(ctx.exp(n), m) for m in METRICS]
        device = f"{costs['device']}, {costs['s_per_search'][n]} s per search"
        cells = [f"{p['value']:.2f} ± {p['std']:.2f}" for p in pubs]
        lines.append(f"| published | {n} | {pubs[0]['n']} | {device} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---- cost per host ----------------------------------------------------------------------


def cost_by_host(ctx: Ctx) -> str:
    groups = n1000_groups(ctx)
    if groups[0].host is not None:
        raise NasReproError("the cost table's first row is no longer the unnamed slower host")
    intro = f"""The records agree. On the slower host, with a second NASWOT job on the other
    core, N=100 searches took {n100_range(ctx)} s in NHWC and N=1000 searches
    {span(*groups[0].bounds())} s, so the two cores score about twice as many cells as one.
    The host matters as much as the layout. Seconds per N=1000 search, one thread each,
    NHWC, another job on the other core:"""
    rows = [
        "| seeds | host, as the records name it | `K` product | s per search | mean |",
        "|---|---|---|---|---|",
    ]
    named = sorted(
        (r for g in groups for r in g.records if device_host(r)), key=lambda r: r["created"]
    )
    for g in groups:
        if g.host is None:
            label = f"not named (records name it from commit {named[0]['git_commit'][:7]} on)"
        else:
            label = g.host
            told = [r["seed"] for r in g.records if not device_host(r)]
            detail = ctx.notes.host_details.get(g.host)
            if told:
                note = ctx.notes.run(ctx.exp(1000), told[0])["host_note"]
                label += f" ({seeds_phrase(told)} {note})"
            elif detail:
                label += f" ({detail})"
        mean = f"{g.wall().mean():.0f}"
        rows.append(
            f"| {seeds_phrase(g.seeds)} | {label} | {g.kernel} | {span(*g.bounds())} | {mean} |"
        )
    return "\n\n".join([wrap(intro), "\n".join(rows), wrap(_after_cost_table(ctx, groups))])


def _after_cost_table(ctx: Ctx, groups: list) -> str:
    kept = [g for g in groups if not g.out_of_range and not g.alone]
    pruned = [g for g in groups if g.out_of_range or g.alone]
    busy = [
        r for g in kept for r in g.records if ctx.notes.run(r["experiment"], r["seed"]).get("load")
    ]
    left = "; ".join(
        f"{seeds_phrase(r['seed'] for r in g.out_of_range)}:"
        f" {and_list(loads(g.out_of_range, ctx.notes), 'or')}"
        for g in pruned
        if g.out_of_range
    )
    alone = []
    for r in sorted((r for g in pruned for r in g.alone), key=lambda r: r["seed"]):
        since, wall = (
            ctx.notes.run(r["experiment"], r["seed"])["alone_from_s"],
            r["cost"]["wall_clock_s"],
        )
        part = (
            "all of it" if since == 0 else f"the last {secs(wall - since)} s of its {secs(wall)} s"
        )
        alone.append(f"seed {r['seed']} for {part}")
    exp = ctx.exp(1000)
    nchw = [r for r in ctx.records(exp) if layout(r) == "NCHW"]
    outside = [f"seed {r['seed']} (NCHW, {secs(r['cost']['wall_clock_s'])} s)" for r in nchw]
    table_out = [
        r for r in ctx.records(exp) if ctx.notes.run(exp, r["seed"]).get("in_cost_table") is False
    ]
    if table_out:
        why = and_list(loads(table_out, ctx.notes))
        int8 = [r["seed"] for r in table_out if ctx.notes.kernel_product(r) == "int8"]
        first_int8 = min(s for g in groups if g.kernel == "int8" for s in g.seeds)
        if int8 and max(int8) < first_int8:
            verb = "were" if len(int8) > 1 else "was"
            why += f"; {and_list(int8)} {verb} the first with the int8 product"
        outside.append(f"{seeds_label(r['seed'] for r in table_out)} ({why})")
    by = {(g.host, g.kernel): g.wall().mean() for g in groups}
    pairs = [
        (("AMD EPYC", "float32"), (None, "float32")),
        (("Intel Xeon", "int8"), ("AMD EPYC", "int8")),
    ]
    if not all(a in by and b in by for a, b in pairs):
        raise NasReproError(f"the host comparison needs cost groups {pairs}; there are {list(by)}")
    epyc, intel = (by[a] / by[b] for a, b in pairs)
    return f"""Each run's row in the table of runs below says what else shared the host. The
    ranges of seeds {and_list(seeds_phrase(g.seeds) for g in kept)} include runs that shared it
    with {and_list(loads(busy, ctx.notes), "or")} for part of their search; the later ranges
    leave out the runs that did ({left}) and the runs that had the host to themselves for part
    of it: {", ".join(alone)}. Also outside the table:
    {and_list(outside)}. So the EPYC host took {fraction_words(epyc)} the time of the slower
    one, and the Intel host about {intel:.1f} times the EPYC host's with the same code."""


# ---- the Deviations bullet on runs --------------------------------------------------------


def runs_bullet(ctx: Ctx) -> str:
    n10 = ctx.records(ctx.exp(10, reduced=False))[0]
    parts = []
    for n in (100, 1000):
        recs = ctx.records(ctx.exp(n))
        runs = sum(runs_of(r) for r in recs)
        parts.append(
            f"N={n} with {len(recs)} x {runs_of(recs[0])} run{'s' if runs_of(recs[0]) > 1 else ''}"
            f" ({naswot_prose.where_seeds(recs)}"
            f"{'; the leaderboard pools them' if n == 100 else ''}, n={runs})"
        )
    status = [
        f"the {len(ctx.records(ctx.exp(n)))} seeds of `n{n}_reduced`"
        f" ({naswot_prose.all_run(ctx, n)})"
        for n in (100, 1000)
    ]
    return wrap(
        f"""N=10 ran at the paper's {runs_of(n10)} runs, on
        {naswot_prose.spelled(threads_label(n10))} ({secs(n10["cost"]["wall_clock_s"])} s); N=100 and N=1000 have reduced records:
        {", ".join(parts)}. Seeds of the reduced experiments are
        independent sets of searches, so further seeds keep adding to the pooled rows:
        {status[0]} are the paper's {ctx.pub(ctx.exp(100), "cifar10_test")["n"]} runs, and so
        are {status[1]}."""
    )


def blocks(records: list[dict], published: dict, notes: RunNotes) -> dict[str, str]:
    """Every generated block of the NASWOT README, by marker name."""
    ctx = Ctx(aggregate(records), published, notes)
    for exp, group in ctx.groups.items():
        notes.check_seeds(exp, set(group["seeds"]))
    return {
        "runs": runs_bullet(ctx),
        "cost-by-host": cost_by_host(ctx),
        "table-of-runs": table_of_runs(ctx),
        "results-n10": wrap(naswot_prose.n10(ctx)),
        "results-n100": wrap(naswot_prose.n100(ctx)),
        "results-cost": wrap(naswot_prose.cost(ctx, n1000_groups(ctx), n100_range(ctx))),
        "results-n1000": wrap(naswot_cell.n1000(ctx)),
        "results-sampled-cell": wrap(naswot_cell.sampled_cell(ctx)),
    }
