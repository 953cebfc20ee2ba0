"""The MetaQNN search loop end to end on digits (tiny schedule), and its cache-based resume."""

import json

import torch
from hydra import compose, initialize_config_dir

from common.cli import CONF_DIR
from common.runner import run_experiment
from reproductions.metaqnn.search import band_summary, rolling_mean


def tiny_cfg(tmp_path, *extra):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(
            config_name="config",
            overrides=[
                "experiment=metaqnn_metaqnn-space_digits_reduced",
                "logger=none",
                "schedule=[[1.0,3],[0.1,2]]",
                "child.epochs=1",
                f"children.cache_file={tmp_path / 'replay.jsonl'}",
                *extra,
            ],
        )


def test_tiny_search_writes_the_record_contract(tmp_path):
    torch.set_num_threads(1)
    rec = run_experiment(tiny_cfg(tmp_path), tmp_path / "run")
    kids = rec["diagnostics"]["children"]
    fresh = [c for c in kids if not c["repeat"]]
    assert [c["cached"] for c in kids] == [c["repeat"] for c in kids]  # nothing cached before
    assert len(fresh) == 5 and [c["index"] for c in kids] == list(range(len(kids)))
    assert {c["epsilon"] for c in fresh} == {1.0, 0.1}
    assert all({"arch", "reward", "cost_s", "cached"} <= set(c) for c in kids)
    assert rec["diagnostics"]["curve_group"] == "metaqnn_metaqnn-space_digits"
    best = max(c["reward"] for c in fresh)
    assert rec["metrics"]["best_val_acc"] == [best]  # picked on validation
    assert rec["diagnostics"]["selected_val_acc_rerun"] == best  # the retrain is the same child
    assert set(rec["metrics"]) >= {"test_acc", "mean_val_acc_eps1.0", "mean_val_acc_eps0.1"}
    lines = (tmp_path / "replay.jsonl").read_text().splitlines()
    assert len(lines) == 5
    # a rerun with the same replay file (a killed search resumed) trains nothing again
    again = run_experiment(tiny_cfg(tmp_path), tmp_path / "run2")
    assert again["cost"]["children_trained"] == 0
    assert [c["reward"] for c in again["diagnostics"]["children"]] == [c["reward"] for c in kids]
    assert all(c["cached"] for c in again["diagnostics"]["children"])
    assert json.loads(lines[0])["result"]["reward"] == kids[0]["reward"]


def test_band_means_count_unique_models_and_rolling_mean_is_trailing():
    kids = [
        {"epsilon": 1.0, "reward": 10.0, "repeat": False},
        {"epsilon": 1.0, "reward": 30.0, "repeat": False},
        {"epsilon": 0.5, "reward": 30.0, "repeat": True},
        {"epsilon": 0.5, "reward": 90.0, "repeat": False},
    ]
    bands = band_summary(kids, [[1.0, 2], [0.5, 1]])
    assert [b["mean_val_acc"] for b in bands] == [20.0, 90.0]
    assert bands[1]["mean_val_acc_samples"] == 60.0 and bands[1]["unique"] == 1
    assert rolling_mean([10.0, 30.0, 30.0, 90.0], 2) == [10.0, 20.0, 30.0, 60.0]
