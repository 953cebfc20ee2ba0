"""The leaderboard's supernet ranking figures, one per space (``results/ranking_<space>.png``).

Left: Kendall tau of each one-shot record's supernet against the benchmark over single-path
steps (``diagnostics.ranking_curve``: ``path_steps``, ``kendall_tau`` and its bootstrap
interval), SPOS and FairNAS on one axis at equal compute; the released one-shot supernet's tau
on the same cells (``diagnostics.ranking_anchor``) and the space's published anchors (all
cells) as horizontal lines. Then, per experiment whose records hold
``diagnostics.ranking_final_scores``, the supernet's score of each ranked architecture against
its true accuracy at the last point. Records without final scores give the curve only.
Written deterministically (no timestamps, fixed order) so a regeneration changes no byte.
"""

from __future__ import annotations

from pathlib import Path

from common.results import ranking_board
from common.results.record import save_figure_atomic


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scatter_groups(entries: dict[str, dict]) -> dict[str, dict]:
    """The experiments of one space whose records hold per-architecture final scores."""
    return {
        exp: g
        for exp, g in entries.items()
        if any(r["diagnostics"].get("ranking_final_scores") for r in g["records"])
    }


def _curve_panel(ax, space: str, entries: dict[str, dict], anchors: list[dict]) -> None:
    same_cells: dict[float, None] = {}
    for i, (exp, group) in enumerate(entries.items()):
        color = f"C{i}"
        for j, rec in enumerate(group["records"]):
            curve = rec["diagnostics"]["ranking_curve"]
            x = [p["path_steps"] for p in curve]
            ax.plot(
                x,
                [p["kendall_tau"] for p in curve],
                "o-",
                color=color,
                label=ranking_board.method_and_space(exp)[0] if j == 0 else None,
            )
            if all(p.get("kendall_tau_ci") for p in curve):
                lo, hi = zip(*(p["kendall_tau_ci"] for p in curve), strict=True)
                ax.fill_between(x, lo, hi, color=color, alpha=0.15, linewidth=0)
            anchor = rec["diagnostics"].get("ranking_anchor") or {}
            if "kendall_tau" in anchor:
                same_cells[round(anchor["kendall_tau"], 6)] = None
    for k, tau in enumerate(same_cells):
        label = "released one-shot supernet, same cells" if k == 0 else None
        ax.axhline(tau, color="0.4", linestyle=":", label=label)
    for k, a in enumerate(a for a in anchors if "kendall_tau" in a["values"]):
        n = f", {a['epochs']} epochs" if a["epochs"] else ""
        n += f", all {a['n']:,} cells" if a["n"] else ""
        ax.axhline(
            a["values"]["kendall_tau"],
            color="black",
            linestyle="--",
            linewidth=1,
            label=f"published anchor{n}" if k == 0 else None,
        )
    ax.set_xlabel("single-path steps (passes trained)")
    ax.set_ylabel("Kendall tau vs benchmark")
    ax.set_title(f"{space}: supernet ranking over training")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=7)


def _scatter_panel(ax, exp: str, group: dict, color: str) -> None:
    method = ranking_board.method_and_space(exp)[0]
    truth_of = set()
    for rec in group["records"]:
        final = rec["diagnostics"].get("ranking_final_scores")
        if not final:
            continue
        ax.scatter(final["truth"], final["supernet_score"], s=10, color=color, alpha=0.6)
        truth_of.add(rec["protocol"].get("ranking", {}).get("truth", "true accuracy"))
    last = [r["diagnostics"]["ranking_curve"][-1] for r in group["records"]]
    taus = ", ".join(f"{p['kendall_tau']:.3f}" for p in last)
    n = "/".join(str(k) for k in dict.fromkeys(p["n"] for p in last))
    ax.set_title(f"{method}: tau {taus} ({n} architectures, last point)", fontsize=10)
    ax.set_xlabel(f"true accuracy ({' / '.join(sorted(truth_of))}, %)")
    ax.set_ylabel("supernet score (inherited weights)")
    ax.grid(alpha=0.3)


def plot_space(space: str, entries: dict[str, dict], anchors: list[dict], path: Path) -> None:
    """One space's figure: the tau curves, then a scatter per experiment with final scores."""
    plt = _pyplot()
    scatters = scatter_groups(entries)
    fig, axes = plt.subplots(1, 1 + len(scatters), figsize=(5 + 4 * len(scatters), 3.8))
    axes = list(axes) if scatters else [axes]
    _curve_panel(axes[0], space, entries, anchors)
    colors = {exp: f"C{i}" for i, exp in enumerate(entries)}
    for ax, (exp, group) in zip(axes[1:], scatters.items(), strict=True):
        _scatter_panel(ax, exp, group, colors[exp])
    fig.tight_layout()
    save_figure_atomic(fig, path)
    plt.close(fig)


def figure_paths(groups: dict[str, dict], results_dir: Path) -> list[Path]:
    """The figures the leaderboard links, one per space with one-shot records."""
    return [results_dir / ranking_board.figure_name(s) for s in ranking_board.spaces(groups)]


def write_ranking_figures(groups: dict[str, dict], results_dir: Path) -> list[Path]:
    anchors = ranking_board.published_anchors()
    paths = []
    for space, entries in ranking_board.spaces(groups).items():
        path = results_dir / ranking_board.figure_name(space)
        plot_space(space, entries, [a for a in anchors if a["space"] == space], path)
        paths.append(path)
    return paths
