"""The leaderboard's "Supernet ranking quality" section: how well each trained weight-sharing
supernet orders architectures whose true accuracy a benchmark gives, beside published anchors.

A ranking is its own metric family, never an accuracy: Kendall tau-b, Spearman rho and P@top
5 % of the supernet's inherited-weight scores against the table (``common.protocols.ranking``).
Read from the canonical records:

- one-shot records (SPOS, FairNAS: ``common.protocols.one_shot``): the last point of
  ``diagnostics.ranking_curve`` (epochs, path steps, n, the three statistics and their
  bootstrap intervals), ``protocol.ranking.truth`` and ``diagnostics.ranking_anchor`` (the
  released one-shot supernet's statistics on the same cells, NB-201 only, may be null);
- ENAS records: ``diagnostics.ranking`` (tau as rewarded and after BN recalibration, no
  intervals).

The anchors are every published number of the ``ranking_*`` family (e.g. FairNAS Fig. 1) and
every entry of a published record's ``anchors`` list (e.g. the released NB-201 one-shot
supernet over all 15,625 cells), grouped into one row per (paper, source, where).
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from common.results import published

STATS = ("kendall_tau", "spearman", "p_at_top")
TITLES = ("Kendall tau", "Spearman", "P@top 5 %")
ENAS_KINDS = (("as_rewarded", "as rewarded"), ("bn_recalibrated", "BN recalibrated"))


def method_and_space(experiment: str) -> tuple[str, str]:
    """An experiment is named paper_space_dataset[_stage][_scale] (STYLE.md)."""
    parts = experiment.split("_")
    return parts[0], parts[1] if len(parts) > 1 else "?"


def one_shot_groups(groups: dict[str, dict]) -> dict[str, dict]:
    """The experiment groups whose every record holds a ranking curve, by experiment name."""
    return {
        exp: g
        for exp, g in sorted(groups.items())
        if all(r.get("diagnostics", {}).get("ranking_curve") for r in g["records"])
    }


def enas_groups(groups: dict[str, dict]) -> dict[str, dict]:
    key = "kendall_tau_as_rewarded"
    return {
        exp: g
        for exp, g in sorted(groups.items())
        if all(key in (r.get("diagnostics", {}).get("ranking") or {}) for r in g["records"])
    }


def spaces(groups: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """One-shot groups by space: what each ranking figure shows."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for exp, g in one_shot_groups(groups).items():
        out[method_and_space(exp)[1]][exp] = g
    return dict(sorted(out.items()))


def figure_name(space: str) -> str:
    return f"ranking_{space}.png"


def _value(points: list[dict], key: str, digits: int = 3) -> str:
    """One record: the value and its interval; several: mean ± std over the records."""
    points = [p for p in points if p and p.get(key) is not None]
    if not points:
        return "—"
    if len(points) == 1:
        p = points[0]
        ci = p.get(f"{key}_ci")
        text = f"{p[key]:.{digits}f}"
        return text + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
    values = [p[key] for p in points]
    return f"{statistics.mean(values):.{digits}f} ± {statistics.pstdev(values):.{digits}f} (n={len(values)})"


def _join(values) -> str:
    return " / ".join(str(v) for v in dict.fromkeys(values))


def _records_cell(exp: str, group: dict) -> str:
    n = len(group["records"])
    seeds = ",".join(str(s) for s in sorted(group["seeds"]))
    return f"`{exp}` ({n} record{'s' if n > 1 else ''}, seed {seeds})"


def one_shot_row(exp: str, group: dict) -> str:
    recs = group["records"]
    last = [r["diagnostics"]["ranking_curve"][-1] for r in recs]
    anchors = [r["diagnostics"].get("ranking_anchor") or {} for r in recs]
    truth = _join(r["protocol"].get("ranking", {}).get("truth", "?") for r in recs)
    p_top = _value(last, "p_at_top")
    fractions = {p.get("top_fraction", 0.05) for p in last}
    if fractions != {0.05}:
        p_top += " (top " + _join(f"{100 * f:g} %" for f in sorted(fractions)) + ")"
    method, space = method_and_space(exp)
    cells = [
        method,
        space,
        _join(r["data_variant"] for r in recs),
        _join(p["epochs"] for p in last),
        _join(p["path_steps"] for p in last),
        f"{_join(p['n'] for p in last)} ({truth})",
        _value(last, "kendall_tau"),
        _value(last, "spearman"),
        p_top,
        _value([a for a in anchors if "kendall_tau" in a], "kendall_tau"),
        _records_cell(exp, group),
    ]
    return "| " + " | ".join(cells) + " |"


def enas_rows(exp: str, group: dict) -> list[str]:
    recs = group["records"]
    ranking = [r["diagnostics"]["ranking"] for r in recs]
    method, space = method_and_space(exp)
    epochs = _join(r.get("cost", {}).get("search_epochs_run", "?") for r in recs)
    n = _join(rk.get("num_archs", len(rk.get("archs", []))) for rk in ranking)
    truth = _join(rk.get("against", "?") for rk in ranking)
    rows = []
    for kind, label in ENAS_KINDS:
        tau = _value([{"tau": rk[f"kendall_tau_{kind}"]} for rk in ranking], "tau")
        cells = [f"{method} ({label})", space, _join(r["data_variant"] for r in recs), epochs]
        cells += ["—", f"{n} ({truth})", tau, "—", "—", "—", _records_cell(exp, group)]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def published_anchors() -> list[dict]:
    """Published ranking numbers of every paper: one row per (paper, source, where), with
    its statistics by name (``kendall_tau``...), a label, its space and its provenance."""
    rows: dict[tuple, dict] = {}
    for paper in published.list_papers():
        rec = published.load_published(paper)
        entries = [r for r in rec["results"] if r["metric"].startswith("ranking_")]
        entries += [a for a in rec.get("anchors", []) if a["metric"].startswith("ranking_")]
        for e in entries:
            space = e.get("space") or method_and_space(e["experiments"][0])[1]
            row = rows.setdefault(
                (paper, e["source"], e["where"]),
                {
                    "label": e["dataset"],
                    "space": space,
                    "n": e.get("n"),
                    "epochs": e.get("epochs"),
                    "source": f"{e['source']}, {e['where']} ({e['confidence']})",
                    "values": {},
                },
            )
            row["values"][e["metric"].removeprefix("ranking_")] = e["value"]
    return list(rows.values())


def anchor_rows(anchors: list[dict]) -> list[str]:
    out = []
    for a in anchors:
        vals = [f"{a['values'][k]:g}" if k in a["values"] else "—" for k in STATS]
        n = f"{a['n']:,}" if a["n"] else "—"
        epochs = str(a["epochs"]) if a["epochs"] else "—"
        out.append(f"| {a['label']} | {a['space']} | {epochs} | {n} | " + " | ".join(vals))
        out[-1] += f" | {a['source']} |"
    return out


def section(groups: dict[str, dict]) -> list[str]:
    """The generated section's lines (title, text, our rows, the anchors, figure links)."""
    ours = []
    for exp, group in one_shot_groups(groups).items():
        ours.append(one_shot_row(exp, group))
    for exp, group in enas_groups(groups).items():
        ours += enas_rows(exp, group)
    lines = [
        "## Supernet ranking quality",
        "",
        "These are rankings by a trained weight-sharing supernet, not accuracies: how well the",
        "supernet's scores of architectures with inherited weights (after batch-norm",
        "recalibration) order architectures whose true accuracy the benchmark table gives.",
        "Kendall tau-b and Spearman rho over the ranked architectures; P@top 5 %: the share of",
        "the true top 5 % that the supernet also puts in its top 5 %. One record: the value at",
        "the end of supernet training with its 95 % bootstrap interval over the ranked",
        "architectures; several: mean ± std over the records. Path steps: single-path",
        "forward/backward passes (SPOS and FairNAS compare at equal compute). The found",
        "architectures' accuracies are in the other tables; each record holds the whole curve",
        "(`diagnostics.ranking_curve`).",
        "",
    ]
    head = (
        "| method | space | trained on | supernet epochs | path steps | architectures ranked"
        " (truth) | " + " [95 % CI] | ".join(TITLES) + " [95 % CI] | released one-shot"
        " supernet, same cells: Kendall tau | experiment |"
    )
    if ours:
        lines += [head, "|---" * 11 + "|", *ours, ""]
    else:
        lines += ["No canonical supernet ranking record yet.", ""]
    lines += [
        "Published anchors (not run here; other training budgets, data and spaces):",
        "",
        "| published anchor | space | supernet epochs | architectures | "
        + " | ".join(TITLES)
        + " | source |",
        "|---" * 8 + "|",
        *anchor_rows(published_anchors()),
        "",
    ]
    for space in spaces(groups):
        lines += [
            f"![Supernet ranking, {space}: Kendall tau over path steps and supernet score"
            f" against true accuracy](results/{figure_name(space)})",
            "",
        ]
    return lines
