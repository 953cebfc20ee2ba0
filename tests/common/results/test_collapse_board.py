"""The leaderboard's parameter-free collapse section, from synthetic records: only records
that log a per-epoch share get a row, one row per seed with the first and last share, the
found cell (its pipes escaped so the table holds), and one figure per experiment."""

from matplotlib.image import imread

from common.results import collapse_board, leaderboard
from common.results.record import load_records, write_json_atomic


def _record(seed, shares, exp="enas_nb201_toy"):
    epochs = [{"epoch": i, "param_free_share": s} for i, s in enumerate(shares)]
    epochs[0]["op_shares"] = {"none": 0.2, "skip_connect": 0.2, "nor_conv_1x1": 0.2,
                              "nor_conv_3x3": 0.2, "avg_pool_3x3": 0.2}  # fmt: skip
    return {
        "schema": 1, "experiment": exp, "paper": "enas", "stage": "search", "scale": "reduced",
        "seed": seed, "data_variant": "toy", "metrics": {"cifar10_test": [54.3 + seed]},
        "protocol": {"found": "|skip_connect~0|+|none~0|skip_connect~1|"},
        "diagnostics": {"epochs": epochs, "found_param_free_edges": 3},
        "cost": {"wall_clock_s": 1.0}, "device": "cpu", "git_commit": "0123456789",
        "config": {"board": None},
    }  # fmt: skip


def test_rows_per_seed_and_only_for_records_that_log_shares(tmp_path):
    other = {**_record(0, [0.5], exp="spos_x"), "diagnostics": {}}
    groups = leaderboard.aggregate([_record(1, [0.6, 0.8, 0.97]), _record(0, [0.6, 0.4]), other])
    assert list(collapse_board.collapse_groups(groups)) == ["enas_nb201_toy"]
    lines = collapse_board.section(groups)
    rows = [line for line in lines if line.startswith("| 0 ") or line.startswith("| 1 ")]
    assert rows[0].startswith("| 0 | 0.60 | 0.40 | 2 | 3 |")
    assert rows[1].startswith("| 1 | 0.60 | 0.97 | 3 | 3 |") and rows[1].endswith("| 55.30 |")
    assert "`\\|skip_connect~0\\|+\\|none~0\\|skip_connect~1\\|`" in rows[0]
    assert all(row.count(" | ") == rows[0].count(" | ") for row in rows)


def test_the_leaderboard_writes_and_checks_one_figure_per_experiment(tmp_path):
    results = tmp_path / "results"
    write_json_atomic(results / "enas" / "enas_nb201_toy__seed0.json", _record(0, [0.6, 0.9]))
    text, _ = leaderboard.render(results)
    assert "## Parameter-free collapse" in text
    groups = leaderboard.aggregate(load_records(results))
    (path,) = collapse_board.write_figures(groups, results)
    assert path == results / "collapse_enas_nb201_toy.png"
    assert imread(path).shape[2] in (3, 4)
    assert collapse_board.figure_paths(groups, results) == [path]
