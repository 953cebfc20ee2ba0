"""The leaderboard's "Searches over trained children" section: controller searches that learn
from each child's accuracy (NAS-RL, MetaQNN, NASNet, PNAS), beside random search of equal cost.

A search's record holds, in ``diagnostics``:

- ``children``: one entry per child evaluated, in evaluation order, each with its ``reward``
  (the search's own reward, e.g. validation accuracy in %), ``cost_s`` and ``cached``, and
  any extra such as MetaQNN's ``epsilon``;
- ``curve_group``: the comparison it belongs to (a controller run and its equal-cost random
  search share it, e.g. ``nas-rl_nas-rl-space_cifar10-jpeg``);
- ``curve_label``: its line in the figure (``NAS-RL (REINFORCE)``, ``random search``).

Per group: a table of its experiments (children, trained, best reward, mean reward of the
last quarter of children, cost) and a figure ``results/search_<group>.png`` of reward against
children trained (a cached repeat plotted at the count so far, so that equal training cost
lines up): each evaluation as a dot, the rolling mean of the rewards as a line (MetaQNN's
Fig. 3 plots a rolling mean over 100 models), per experiment. The papers' figures compare the same way (the
NASNet paper's RL against random search; MetaQNN's accuracy as epsilon falls).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

from common.results.record import save_figure_atomic


def search_groups(groups: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """Experiment groups whose every record holds children, by ``curve_group`` then
    experiment name (sorted: deterministic tables and figures)."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for exp, g in sorted(groups.items()):
        diags = [r.get("diagnostics", {}) for r in g["records"]]
        if diags and all(d.get("children") for d in diags):
            out[diags[0].get("curve_group") or exp][exp] = g
    return dict(sorted(out.items()))


def figure_name(group: str) -> str:
    return f"search_{group}.png"


def label_of(exp: str, group: dict) -> str:
    return group["records"][0]["diagnostics"].get("curve_label") or exp


def rolling_mean(values: list[float], window: int) -> list[float]:
    """Mean of the last ``window`` values at each position (fewer at the start)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def window_for(n: int) -> int:
    """MetaQNN's 100-model window, shorter for short runs (a tenth of the run, at least 5)."""
    return max(5, min(100, n // 10))


def trained_so_far(children: list[dict]) -> list[int]:
    """The x of each evaluated child: how many distinct children had been trained by then
    (a cached repeat stays at the count so far), so that searches that resample (MetaQNN,
    a converged controller) and searches that do not line up at equal training cost."""
    out, n = [], 0
    for c in children:
        n += 0 if c.get("cached") else 1
        out.append(max(n, 1))
    return out


def _rewards(rec: dict) -> list[float]:
    return [float(c["reward"]) for c in rec["diagnostics"]["children"]]


def _fmt(values: list[float], digits: int = 2) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.pstdev(values):.{digits}f}"


def retrains_of(groups: dict[str, dict]) -> dict[str, list[dict]]:
    """Retrain records by the search experiment whose found cell they retrained
    (``protocol.search``): a search's row then shows what its cell reached when trained."""
    out: dict[str, list[dict]] = defaultdict(list)
    for g in groups.values():
        for rec in g["records"]:
            search = rec.get("protocol", {}).get("search")
            if rec.get("stage") == "retrain" and isinstance(search, str):
                out[search].append(rec)
    return out


def retrain_cell(retrains: list[dict]) -> str:
    """``62.10 / 60.30 (`<experiment>`, seed 0)``: test / val accuracy of the retrained found
    cell; several seeds of one retrain experiment pool into mean ± std (n)."""
    if not retrains:
        return "—"
    by_exp: dict[str, list[dict]] = defaultdict(list)
    for rec in retrains:
        by_exp[rec["experiment"]].append(rec)
    cells = []
    for exp, recs in by_exp.items():
        recs = sorted(recs, key=lambda r: r["seed"])
        test = _fmt([v for r in recs for v in r["metrics"].get("test_acc", [])])
        val = _fmt([v for r in recs for v in r["metrics"].get("val_acc", [])])
        seeds = ",".join(str(r["seed"]) for r in recs)
        n = f", n={len(recs)}" if len(recs) > 1 else ""
        cells.append(f"{test} / {val} (`{exp}`, seed{'s' if len(recs) > 1 else ''} {seeds}{n})")
    return "; ".join(cells)


def experiment_row(exp: str, group: dict, retrains: list[dict] | None = None) -> str:
    recs = group["records"]
    children = [r["diagnostics"]["children"] for r in recs]
    rewards = [_rewards(r) for r in recs]
    trained = [sum(1 for c in ch if not c.get("cached")) for ch in children]
    last_quarter = [statistics.mean(r[-max(1, len(r) // 4) :]) for r in rewards]
    cost = [sum(float(c.get("cost_s", 0.0)) for c in ch) / 3600 for ch in children]
    seeds = ",".join(str(s) for s in sorted(group["seeds"]))
    cells = [
        label_of(exp, group),
        " / ".join(dict.fromkeys(r["data_variant"] for r in recs)),
        " / ".join(str(len(ch)) for ch in children),
        " / ".join(str(t) for t in trained),
        _fmt([max(r) for r in rewards]),
        _fmt(last_quarter),
        _fmt(cost, 3),
        retrain_cell(retrains or []),
        f"`{exp}` (seed {seeds})",
    ]
    return "| " + " | ".join(cells) + " |"


def section(groups: dict[str, dict]) -> list[str]:
    found = search_groups(groups)
    if not found:
        return []
    lines = [
        "## Searches over trained children",
        "",
        "Controller searches that train each child they sample (or query it in a benchmark",
        "table) and learn from its accuracy, each beside random search at equal cost where one",
        "ran. Reward: the search's own signal (validation accuracy of the briefly trained",
        "child, %; for a table search the table's accuracy it was given); never a test",
        "accuracy of a child it then selects on.",
        "Children: evaluated in order (cached repeats included); trained: how many were",
        "trained (the rest came from the cache); last quarter: the mean reward of the last",
        "quarter of children, what a learning controller raises. Several records: mean ± std.",
        "Found cell retrained: test / validation accuracy (%) of the search's best child",
        "trained again from scratch by the named retrain experiment (its own, longer schedule;",
        "MetaQNN: the top model of the search's ten best, picked on validation after that",
        "training, as in its Sect. 5); several seeds of it: mean ± std.",
        "",
    ]
    head = (
        "| search | data | children | trained | best reward | mean reward, last quarter"
        " | children's training (CPU h) | found cell retrained (test / val) | experiment |"
    )
    retrains = retrains_of(groups)
    for name, entries in found.items():
        lines += [f"**{name}**", "", head, "|---" * 9 + "|"]
        lines += [experiment_row(exp, g, retrains.get(exp)) for exp, g in entries.items()]
        lines += [
            "",
            f"![{name}: reward against children trained](results/{figure_name(name)})",
            "",
        ]
    return lines


def plot_group(name: str, entries: dict[str, dict], path: Path) -> None:
    """Reward against children trained: dots per evaluation, rolling mean per experiment."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, (exp, group) in enumerate(entries.items()):
        color = f"C{i}"
        for j, rec in enumerate(group["records"]):
            r = _rewards(rec)
            x = trained_so_far(rec["diagnostics"]["children"])
            w = window_for(len(r))
            ax.scatter(x, r, s=6, color=color, alpha=0.25, linewidths=0)
            label = f"{label_of(exp, group)} (rolling mean, {w})" if j == 0 else None
            ax.plot(x, rolling_mean(r, w), color=color, linewidth=2, label=label)
    ax.set_xlabel("children trained (a cached repeat at the count so far)")
    ax.set_ylabel("reward (validation accuracy, %)")
    ax.set_title(name)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, path)
    plt.close(fig)


def figure_paths(groups: dict[str, dict], results_dir: Path) -> list[Path]:
    return [results_dir / figure_name(g) for g in search_groups(groups)]


def write_figures(groups: dict[str, dict], results_dir: Path) -> list[Path]:
    paths = []
    for name, entries in search_groups(groups).items():
        path = results_dir / figure_name(name)
        plot_group(name, entries, path)
        paths.append(path)
    return paths
