"""The leaderboard's section for searches over trained children, from synthetic records whose
values can be checked by hand: grouping by comparison, the row statistics, the rolling mean,
and one figure per comparison that ``--check`` demands."""

from matplotlib.image import imread

from common.results import leaderboard, search_board
from common.results.record import load_records, write_json_atomic


def _record(exp, rewards, seed=0, group="toy_space_digits", label=None, cached=()):
    children = [
        {"index": i, "arch": f"a{i}", "reward": r, "cost_s": 36.0, "cached": i in cached}
        for i, r in enumerate(rewards)
    ]
    return {
        "schema": 1,
        "experiment": exp,
        "paper": exp.split("_")[0],
        "stage": "search",
        "scale": "reduced",
        "seed": seed,
        "data_variant": "digits",
        "metrics": {"best_val_acc": [max(rewards)]},
        "protocol": {},
        "diagnostics": {"children": children, "curve_group": group, "curve_label": label},
        "cost": {"wall_clock_s": 150.0},
        "device": "cpu",
        "git_commit": "0123456789",
        "config": {"board": None},
    }


def test_rolling_mean_by_hand():
    assert search_board.rolling_mean([1, 2, 3, 4], 2) == [1.0, 1.5, 2.5, 3.5]
    assert search_board.rolling_mean([4.0], 100) == [4.0]
    assert search_board.window_for(40) == 5
    assert search_board.window_for(500) == 50
    assert search_board.window_for(5000) == 100


def test_rows_group_and_pool_seeds():
    recs = [
        _record("metaqnn_toy_digits", [10, 20, 30, 40], label="Q-learning", cached=(3,)),
        _record("metaqnn_toy_digits", [10, 10, 10, 50], seed=1, label="Q-learning"),
        _record("metaqnn_toy_digits_random", [5, 5, 5, 5], label="random search"),
        _record("nas-rl_other_c10", [1.0, 2.0], group="other"),
    ]
    recs.append({**_record("spos_x_y", [1.0]), "diagnostics": {}})  # not a child search
    groups = leaderboard.aggregate(recs)
    found = search_board.search_groups(groups)
    assert list(found) == ["other", "toy_space_digits"]
    assert list(found["toy_space_digits"]) == ["metaqnn_toy_digits", "metaqnn_toy_digits_random"]
    row = search_board.experiment_row("metaqnn_toy_digits", groups["metaqnn_toy_digits"])
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "Q-learning"
    assert cells[2] == "4 / 4" and cells[3] == "3 / 4"
    assert cells[4] == "45.00 ± 5.00"  # best 40 and 50
    assert cells[5] == "45.00 ± 5.00"  # last quarter: 40 and 50
    assert cells[6] == "0.040 ± 0.000"  # 4 children x 36 s = 0.04 h
    # a label-less record falls back to its experiment name
    assert "nas-rl_other_c10" in search_board.experiment_row(
        "nas-rl_other_c10", groups["nas-rl_other_c10"]
    )


def test_leaderboard_section_and_figures(tmp_path):
    results = tmp_path / "results"
    for rec in (
        _record("metaqnn_toy_digits", list(range(30)), label="Q-learning"),
        _record("metaqnn_toy_digits_random", [10.0] * 30, label="random search"),
    ):
        write_json_atomic(results / rec["paper"] / f"{rec['experiment']}__seed0.json", rec)
    text, _ = leaderboard.render(results)
    assert "## Searches over trained children" in text
    assert "| Q-learning | digits | 30 | 30 | 29.00 | 26.00 |" in text
    assert "(results/search_toy_space_digits.png)" in text
    groups = leaderboard.aggregate(load_records(results))
    (path,) = search_board.write_figures(groups, results)
    assert path == results / "search_toy_space_digits.png"
    assert imread(path).shape[2] in (3, 4)
    assert search_board.figure_paths(groups, results) == [path]


def test_repeats_stay_at_the_trained_count():
    children = [{"cached": False}, {"cached": True}, {"cached": False}, {"cached": True}]
    assert search_board.trained_so_far(children) == [1, 1, 2, 2]
    assert search_board.trained_so_far([{"cached": True}]) == [1]


def test_a_search_row_shows_the_retrain_of_its_found_cell():
    search = _record("nasnet_toy_digits", [10.0, 30.0], label="PPO")
    other = _record("nasnet_toy_digits_random", [20.0, 25.0], label="random search")
    retrain = {
        **_record("nasnet_toy_digits_retrain", [0.0]),
        "stage": "retrain",
        "metrics": {"test_acc": [61.25], "val_acc": [60.5]},
        "protocol": {"search": "nasnet_toy_digits"},
        "diagnostics": {},
    }
    groups = leaderboard.aggregate([search, other, retrain])
    text = "\n".join(search_board.section(groups))
    row = next(line for line in text.splitlines() if line.startswith("| PPO "))
    assert "61.25 / 60.50 (`nasnet_toy_digits_retrain`, seed 0)" in row
    random_row = next(line for line in text.splitlines() if line.startswith("| random search "))
    assert "| — |" in random_row  # no retrain of the random search's cell: none shown


def test_seeds_of_one_retrain_pool_into_mean_and_std():
    search = _record("metaqnn_toy_digits", [10.0, 30.0], label="Q-learning")
    retrains = [
        {
            **_record("metaqnn_toy_digits_final", [0.0], seed=seed),
            "stage": "retrain",
            "metrics": {"test_acc": [test], "val_acc": [val]},
            "protocol": {"search": "metaqnn_toy_digits"},
            "diagnostics": {},
        }
        for seed, test, val in ((2, 98.0, 99.0), (0, 99.0, 99.0), (1, 97.0, 99.0))
    ]
    groups = leaderboard.aggregate([search, *retrains])
    row = next(r for r in search_board.section(groups) if r.startswith("| Q-learning "))
    # population std of 97, 98, 99 is sqrt(2/3) = 0.82
    assert "98.00 ± 0.82 / 99.00 ± 0.00 (`metaqnn_toy_digits_final`, seeds 0,1,2, n=3)" in row
