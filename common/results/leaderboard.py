"""LEADERBOARD.md, generated from the published records and the committed run records.

Per paper: each published number beside the reproduced mean +- std over all canonical runs
of its experiment, the difference and whether it lies within the published band (the
tolerance, else one published std). Then the common NAS-Bench-201 board (every method run on
it, CIFAR-10 / CIFAR-100 / ImageNet16-120 test accuracy, like the NB-201 paper's table) and
a plot of it; then the supernet ranking quality of the weight-sharing runs beside published
anchors, with a figure per space (``ranking_board``, ``figures``); then the searches that
train their children, each beside random search of equal cost, with a figure per comparison
(``search_board``). Never hand-edited:
``nasrepro-leaderboard --check`` fails when it is stale (or a linked figure is missing).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from common.errors import NasReproError
from common.results import (
    collapse_board,
    figures,
    published,
    ranking_board,
    readme_blocks,
    search_board,
)
from common.results.record import (
    load_records,
    results_lock,
    save_figure_atomic,
    write_text_atomic,
)
from common.speed import record_label

REPO_ROOT = published.REPO_ROOT
NB201_BOARD = ("cifar10_valid", "cifar10_test", "cifar100_test", "imagenet16_test")
NB201_TITLES = ("C10 valid", "C10 test", "C100 test", "IN16-120 test")


def _stats(values: list[float]) -> tuple[float, float, int]:
    arr = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if arr.size == 0:
        return math.nan, math.nan, 0
    return float(arr.mean()), float(arr.std()), int(arr.size)


def _pm(mean: float, std: float | None, n: int | None = None) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "—"
    s = f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"
    return s + (f" (n={n})" if n else "")


def aggregate(records: list[dict]) -> dict[str, dict]:
    """Canonical records grouped by experiment: concatenated metric values and run facts."""
    groups: dict[str, dict] = {}
    for rec in records:
        g = groups.setdefault(
            rec["experiment"],
            {"metrics": defaultdict(list), "seeds": [], "records": [], "paper": rec["paper"]},
        )
        for metric, values in rec["metrics"].items():
            g["metrics"][metric].extend(values)
        g["seeds"].append(rec["seed"])
        g["records"].append(rec)
    return groups


def experiment_group(results_dir: str | Path, experiment: str) -> dict:
    """The pooled canonical records of one experiment; a one-line error naming those there are."""
    groups = aggregate(load_records(results_dir))
    if experiment not in groups:
        raise NasReproError(
            f"no canonical records of experiment {experiment!r} under {results_dir};"
            f" experiments with records: {', '.join(sorted(groups))}"
        )
    return groups[experiment]


def _facts(group: dict) -> str:
    rec = group["records"][0]
    proto = rec["protocol"]
    runs = proto.get("num_searches")
    seeds = ",".join(str(s) for s in sorted(group["seeds"]))
    wall = sum(r["cost"]["wall_clock_s"] for r in group["records"])
    # seed records may come from different machines and commits: name each one once
    devices = " + ".join(dict.fromkeys(r["device"] for r in group["records"]))
    commits = " + ".join(
        dict.fromkeys((r.get("git_commit") or "unknown")[:8] for r in group["records"])
    )
    if any(r.get("git_dirty") for r in group["records"]):
        commits += " + uncommitted changes"
    parts = [f"{rec['scale']} scale", f"seed {seeds}"]
    if runs:
        parts.append(f"{runs} searches/seed")
    speeds = [s for s in dict.fromkeys(record_label(r) for r in group["records"]) if s]
    speed = f" ({' + '.join(speeds)})" if speeds else ""
    parts += [rec["data_variant"], f"{wall:.0f} s on {devices}{speed}", f"commit {commits}"]
    return "; ".join(parts)


def comparison_rows(res: dict, group: dict | None) -> list[str]:
    band = res.get("tolerance", res.get("std"))
    pub = _pm(res["value"], res.get("std"), res.get("n"))
    if group is None or not group["metrics"].get(res["metric"]):
        return [f"| {res['dataset']} | {pub} | not run yet | | | |"]
    mean, std, n = _stats(group["metrics"][res["metric"]])
    diff = mean - res["value"]
    inside = "yes" if abs(diff) <= band else "**no**"
    return [
        f"| {res['dataset']} | {pub} | {_pm(mean, std, n)} | {diff:+.2f} | ±{band:.2f}: {inside} | {res['confidence']} |"
    ]


def paper_section(paper: str, groups: dict[str, dict]) -> list[str]:
    rec = published.load_published(paper)
    p = rec["paper"]
    out = [f"### {p['title']} ({p['venue']} {p['year']}) — `reproductions/{paper}`", ""]
    by_exp: dict[str, list[dict]] = defaultdict(list)
    for res in rec["results"]:
        for exp in res["experiments"]:
            by_exp[exp].append(res)
    for exp, results in by_exp.items():
        group = groups.get(exp)
        out.append(f"`nasrepro experiment={exp}`" + (f" — {_facts(group)}" if group else ""))
        out.append("")
        out.append("| metric | published | reproduced | Δ | within band | published number |")
        out.append("|---|---|---|---|---|---|")
        for res in results:
            out += comparison_rows(res, group)
        sources = sorted({f"{r['source']}, {r['where']}" for r in results})
        out += ["", "Published numbers from: " + "; ".join(sources) + ".", ""]
    return out


def nb201_board(groups: dict[str, dict]) -> tuple[list[str], list[tuple[str, dict, dict]]]:
    rows = []
    for exp, group in sorted(groups.items()):
        if group["records"][0]["config"].get("board") != "nb201":
            continue
        refs = {r["metric"]: r for r in published.results_for(exp)}
        rows.append((exp, group, refs))
    out = [
        "| method (experiment) | "
        + " | ".join(f"{t} reproduced / published" for t in NB201_TITLES)
        + " |",
        "|---|" + "---|" * len(NB201_TITLES),
    ]
    for exp, group, refs in rows:
        cells = []
        for metric in NB201_BOARD:
            mean, std, n = _stats(group["metrics"].get(metric, []))
            ref = refs.get(metric)
            pub = _pm(ref["value"], ref.get("std")) if ref else "—"
            cells.append(f"{_pm(mean, std)} / {pub}")
        out.append(f"| {exp} (n={n}) | " + " | ".join(cells) + " |")
    for label, refs in nb201_reference_rows().items():
        cells = [
            _pm(refs[m]["value"], refs[m].get("std")) if m in refs else "—" for m in NB201_BOARD
        ]
        out.append(f"| {label} | " + " | ".join(f"— / {c}" for c in cells) + " |")
    return out, rows


def nb201_reference_rows() -> dict[str, dict[str, dict]]:
    """Published NB-201 rows of methods not run here (anchors with ``board: nb201``, e.g. the
    NB-201 paper's RSPS row beside the one-shot methods), by row label then metric."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for paper in published.list_papers():
        for a in published.load_published(paper).get("anchors", []):
            if a.get("board") == "nb201":
                out[f"{a['row']} [{a['confidence']}]"][a["metric"]] = a
    return dict(out)


def plot_nb201(rows: list[tuple[str, dict, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, metric, title in zip(axes, NB201_BOARD[1:], NB201_TITLES[1:]):
        for i, (exp, group, refs) in enumerate(rows):
            mean, std, _ = _stats(group["metrics"].get(metric, []))
            ax.errorbar(
                mean, i, xerr=std, fmt="o", color="C0", label="reproduced" if i == 0 else None
            )
            if metric in refs:
                ref = refs[metric]
                ax.errorbar(
                    ref["value"],
                    i + 0.2,
                    xerr=ref.get("std", 0),
                    fmt="s",
                    color="C1",
                    label="published" if i == 0 else None,
                )
        ax.set_yticks(range(len(rows)), [r[0].split("_")[0] for r in rows] if ax is axes[0] else [])
        ax.set_title(f"NAS-Bench-201 {title} (%)")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, path)
    plt.close(fig)


def other_runs(groups: dict[str, dict]) -> list[str]:
    """Canonical runs whose experiment reproduces no published number (e.g. reduced scale)."""
    out = []
    for exp, group in sorted(groups.items()):
        if published.results_for(exp):
            continue
        metrics = ", ".join(f"{m} {_pm(*_stats(v))}" for m, v in group["metrics"].items())
        out.append(f"| `{exp}` | {metrics} | {_facts(group)} |")
    if out:
        out = ["| experiment | final metrics (mean ± std) | run |", "|---|---|---|", *out]
    return out


def withdrawn_rows(results_dir: Path) -> list[str]:
    rows = []
    for rec in load_records(results_dir, withdrawn=True):
        path = Path(rec["_path"])
        where = path.relative_to(results_dir.parent) if results_dir.parent in path.parents else path
        rows.append(
            f"| `{rec['experiment']}` | {rec['seed']} | {rec.get('device', '?')} | `{where}` |"
            f" {rec['withdrawn']['reason']} |"
        )
    if rows:
        rows = [
            "| experiment | seed | device | record | why withdrawn |",
            "|---|---|---|---|---|",
            *rows,
        ]
    return rows


def render(results_dir: Path) -> tuple[str, list]:
    groups = aggregate(load_records(results_dir))
    board, rows = nb201_board(groups)
    lines = [
        "# Leaderboard",
        "",
        "Generated by `nasrepro-leaderboard` from `reproductions/*/published.yaml` and the",
        "run records in `results/`. Do not edit by hand; CI fails when it is stale.",
        "",
        "Reproduced: mean ± std (population std) over all canonical runs (n = runs or seeds).",
        "Within band: |reproduced − published| ≤ the published tolerance (default one published std).",
        "Published number: `verified` = read in the primary source; `secondary` = read in a paper",
        "that copies it; `unverified` = a lead not yet checked against a source opened here.",
        "",
        "## NAS-Bench-201 (all methods, search on CIFAR-10)",
        "",
        *board,
        "",
        "![NAS-Bench-201 board](results/leaderboard_nb201.png)",
        "",
        *ranking_board.section(groups),
        *search_board.section(groups),
        *collapse_board.section(groups),
        "## Per paper",
        "",
    ]
    for paper in published.list_papers():
        lines += paper_section(paper, groups)
    extra = other_runs(groups)
    if extra:
        lines += ["## Runs without a published counterpart", "", *extra, ""]
    gone = withdrawn_rows(results_dir)
    if gone:
        lines += ["## Withdrawn records (kept in results/, counted nowhere)", "", *gone, ""]
    return "\n".join(lines).rstrip() + "\n", rows


def format_run_rows(record: dict) -> str:
    """What a run prints at its end: its leaderboard rows, published beside reproduced."""
    group = aggregate([record])[record["experiment"]]
    refs = published.results_for(record["experiment"])
    lines = [f"\nLeaderboard rows of {record['experiment']} ({_facts(group)}):"]
    if record.get("truncated_by"):
        lines.append(
            f"TRUNCATED by {', '.join(record['truncated_by'])}: a check of the pipeline;"
            " these numbers are not results."
        )
    if refs:
        lines += [
            "| metric | published | reproduced | Δ | within band | published number |",
            "|---|---|---|---|---|---|",
        ]
        for res in refs:
            lines += comparison_rows(res, group)
    else:
        lines += ["| metric | reproduced | published |", "|---|---|---|"]
        for metric, values in record["metrics"].items():
            lines.append(f"| {metric} | {_pm(*_stats(values))} | none for this experiment |")
    return "\n".join(lines)


README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def readme_updates(results_dir: Path) -> dict[Path, str]:
    """Each reproduction README with its results block (between the markers) and its named
    generated blocks (``readme_blocks``: tables and prose of its runs) regenerated."""
    records = load_records(results_dir)
    groups = aggregate(records)
    out = {}
    for paper in published.list_papers():
        path = published.REPRODUCTIONS_DIR / paper / "README.md"
        if not path.is_file():
            continue
        text = path.read_text()
        if README_START not in text or README_END not in text:
            continue
        head, rest = text.split(README_START, 1)
        _, tail = rest.split(README_END, 1)
        block = "\n".join(paper_section(paper, groups)[2:]).strip()
        note = "<!-- generated by nasrepro-leaderboard from published.yaml and results/ -->"
        text = f"{head}{README_START}\n{note}\n\n{block}\n\n{README_END}{tail}"
        out[path] = readme_blocks.update(paper, text, records)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Regenerate LEADERBOARD.md from run records.")
    ap.add_argument("--results", type=Path, default=REPO_ROOT / "results")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "LEADERBOARD.md")
    ap.add_argument("--check", action="store_true", help="exit 1 if the file on disk is stale")
    ap.add_argument(
        "--no-readmes",
        action="store_true",
        help="leave the reproductions' README result blocks alone (e.g. for a scratch results dir)",
    )
    args = ap.parse_args(argv)
    # concurrent regenerations (runs finishing together) take turns: each writes a complete,
    # consistent set, and the last one sees every record written before it started
    with results_lock(args.results):
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    text, rows = render(args.results)
    readmes = {} if args.no_readmes else readme_updates(args.results)
    groups = aggregate(load_records(args.results))
    if args.check:
        stale = [
            p
            for p, t in [(args.out, text), *readmes.items()]
            if not p.exists() or p.read_text() != t
        ]
        figs = figures.figure_paths(groups, args.results)
        figs += search_board.figure_paths(groups, args.results)
        figs += collapse_board.figure_paths(groups, args.results)
        stale += [p for p in figs if not p.exists()]
        if stale:
            print(
                f"error: stale: {', '.join(map(str, stale))}; run nasrepro-leaderboard",
                file=sys.stderr,
            )
            return 1
        return 0
    write_text_atomic(args.out, text)
    for path, new in readmes.items():
        write_text_atomic(path, new)
    plot_nb201(rows, args.results / "leaderboard_nb201.png")
    written = [args.results / "leaderboard_nb201.png"]
    written += figures.write_ranking_figures(groups, args.results)
    written += search_board.write_figures(groups, args.results)
    written += collapse_board.write_figures(groups, args.results)
    print(f"wrote {args.out} and {', '.join(map(str, written))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
