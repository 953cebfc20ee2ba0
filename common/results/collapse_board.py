"""The leaderboard's "Parameter-free collapse" section: does a weight-sharing search drift
towards cells of parameter-free operations (skip, pooling, zero), as the NAS-Bench-201 paper
reports for ENAS and DARTS?

A search record that logs, per epoch, the share of parameter-free operations its policy
samples (``diagnostics.epochs[i].param_free_share``, e.g. ENAS on NB-201) gets a row per seed
(share in the first and last epoch, the found cell's parameter-free edges, its benchmark
accuracies) and a figure ``results/collapse_<experiment>.png``: the share against the epoch,
one line per seed, with the share a uniform policy samples as a reference line.
"""

from __future__ import annotations

from pathlib import Path

from common.results.record import save_figure_atomic


def collapse_groups(groups: dict[str, dict]) -> dict[str, dict]:
    """Experiment groups whose every record logs a per-epoch parameter-free share."""
    out = {}
    for exp, g in sorted(groups.items()):
        epochs = [r.get("diagnostics", {}).get("epochs") for r in g["records"]]
        if epochs and all(e and "param_free_share" in e[0] for e in epochs):
            out[exp] = g
    return out


def figure_name(experiment: str) -> str:
    return f"collapse_{experiment}.png"


def _shares(rec: dict) -> list[float]:
    return [float(e["param_free_share"]) for e in rec["diagnostics"]["epochs"]]


def _row(rec: dict, columns: list[str]) -> str:
    shares = _shares(rec)
    found = str(rec.get("protocol", {}).get("found", "—")).replace("|", "\\|")  # in a table
    edges = rec["diagnostics"].get("found_param_free_edges", "—")
    accs = [f"{rec['metrics'][c][0]:.2f}" if c in rec["metrics"] else "—" for c in columns]
    cells = [str(rec["seed"]), f"{shares[0]:.2f}", f"{shares[-1]:.2f}", str(len(shares))]
    return "| " + " | ".join([*cells, f"{edges}", f"`{found}`", *accs]) + " |"


def section(groups: dict[str, dict]) -> list[str]:
    found = collapse_groups(groups)
    if not found:
        return []
    lines = [
        "## Parameter-free collapse",
        "",
        "Weight-sharing searches that log the share of parameter-free operations (zero, skip,",
        "pooling) their policy samples each epoch: whether they drift towards parameter-free",
        "cells, as the NB-201 paper reports for ENAS and DARTS. Found cell: what the search",
        "derived; parameter-free edges: of the cell's edges; accuracies from the benchmark table.",
        "",
    ]
    for exp, g in found.items():
        columns = [c for c in g["records"][0]["metrics"] if c.endswith(("_valid", "_test"))]
        head = ["seed", "share, first epoch", "share, last epoch", "epochs"]
        head += ["found: parameter-free edges", "found cell", *columns]
        lines += [f"`nasrepro experiment={exp}` ({g['records'][0]['scale']} scale)", ""]
        lines += ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        lines += [_row(r, columns) for r in sorted(g["records"], key=lambda r: r["seed"])]
        lines += ["", f"![{exp}: parameter-free share per epoch](results/{figure_name(exp)})", ""]
    return lines


def plot(exp: str, group: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for rec in sorted(group["records"], key=lambda r: r["seed"]):
        ax.plot(_shares(rec), linewidth=1.5, label=f"seed {rec['seed']}")
    first = group["records"][0]["diagnostics"]["epochs"][0].get("op_shares", {})
    if first:  # the share a uniform policy samples: parameter-free ops over all ops
        free = ("none", "skip_connect", "avg_pool_3x3", "max_pool_3x3", "identity")
        uniform = sum(1 for op in first if op in free) / len(first)
        ax.axhline(uniform, color="grey", linestyle="--", linewidth=1, label="uniform policy")
    ax.set_ylim(0, 1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("parameter-free share of sampled ops")
    ax.set_title(exp, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, path)
    plt.close(fig)


def figure_paths(groups: dict[str, dict], results_dir: Path) -> list[Path]:
    return [results_dir / figure_name(exp) for exp in collapse_groups(groups)]


def write_figures(groups: dict[str, dict], results_dir: Path) -> list[Path]:
    paths = []
    for exp, g in collapse_groups(groups).items():
        plot(exp, g, results_dir / figure_name(exp))
        paths.append(results_dir / figure_name(exp))
    return paths
