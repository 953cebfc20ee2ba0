"""MetaQNN's final stage (Sect. 5): the search's top networks trained longer, the top model and
the five-model ensemble, picked on validation only."""

import json

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from common.cli import CONF_DIR
from common.errors import NasReproError
from common.runner import run_experiment
from reproductions.metaqnn.child import load_tensors, train_child
from reproductions.metaqnn.final import ensemble_accuracy, load_search, top_networks


def compose_cfg(experiment, *overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(
            config_name="config", overrides=[f"experiment={experiment}", "logger=none", *overrides]
        )


@pytest.fixture(scope="module")
def search_record(tmp_path_factory):
    """A real (tiny) MetaQNN digits search: 6 networks of 1 epoch."""
    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("search")
    cfg = compose_cfg(
        "metaqnn_metaqnn-space_digits_reduced", "schedule=[[1.0,4],[0.1,2]]", "child.epochs=1"
    )
    rec = run_experiment(cfg, tmp / "run")
    path = tmp / "search.json"
    path.write_text(json.dumps(rec))
    return path


def test_top_networks_are_unique_best_first_and_ties_go_to_the_earlier():
    kids = [
        {"index": 0, "arch": "a", "reward": 50.0},
        {"index": 1, "arch": "b", "reward": 90.0},
        {"index": 2, "arch": "c", "reward": 70.0},
        {"index": 3, "arch": "b", "reward": 90.0},  # a repeat: listed again, counted once
        {"index": 4, "arch": "d", "reward": 70.0},
    ]
    assert [c["arch"] for c in top_networks(kids, 3)] == ["b", "c", "d"]
    assert [c["arch"] for c in top_networks(kids, 10)] == ["b", "c", "d", "a"]


def test_ensemble_averages_probabilities_not_votes():
    labels = torch.tensor([0, 1])
    confident_wrong = [[0.4, 0.6], [0.0, 1.0]]  # image 0 wrong, image 1 right
    hesitant_right = [[0.9, 0.1], [0.6, 0.4]]  # image 0 right, image 1 wrong
    assert ensemble_accuracy([confident_wrong], labels) == 50.0
    assert ensemble_accuracy([hesitant_right], labels) == 50.0
    # means: image 0 (0.65, 0.35) -> 0, image 1 (0.3, 0.7) -> 1: both right
    assert ensemble_accuracy([confident_wrong, hesitant_right], labels) == 100.0


def test_final_stage_picks_on_validation_and_matches_a_standalone_training(search_record, tmp_path):
    torch.set_num_threads(1)
    cfg = compose_cfg(
        "metaqnn_metaqnn-space_digits_final_reduced",
        f"search_record={search_record}",
        "final.top_k=3",
        "final.ensemble=2",
        "final.child.epochs=2",
    )
    rec = run_experiment(cfg, tmp_path / "run")
    searched = json.loads(search_record.read_text())
    wanted = [c["arch"] for c in top_networks(searched["diagnostics"]["children"], 3)]
    nets = rec["diagnostics"]["networks"]
    assert [n["arch"] for n in nets] == wanted
    assert rec["protocol"]["search"] == "metaqnn_metaqnn-space_digits_reduced"
    assert rec["stage"] == "retrain"
    best_val = max(n["val_acc"] for n in nets)
    assert rec["metrics"]["val_acc"] == [best_val]
    top = rec["protocol"]["top_model"]
    assert next(n for n in nets if n["arch"] == top)["val_acc"] == best_val
    assert len(rec["protocol"]["ensemble_members"]) == 2
    assert rec["protocol"]["ensemble_members"][0] == top
    # the top model's test accuracy is that of the same network trained on its own
    child = {**OmegaConf.to_container(cfg.child), **OmegaConf.to_container(cfg.final.child)}
    data = OmegaConf.to_container(cfg.data, resolve=True)
    alone = train_child(top, data, seed=0, with_test=True, with_probs=True, **child)
    assert alone["reward"] == best_val
    assert rec["metrics"]["test_acc"] == [alone["test_acc"]]
    # and the probabilities it hands the ensemble give that accuracy back
    y_test = load_tensors(data)[5]
    assert ensemble_accuracy([alone["test_probs"]], y_test) == pytest.approx(alone["test_acc"])


def test_bad_search_records_are_one_line_errors(search_record, tmp_path):
    with pytest.raises(NasReproError, match="no such file"):
        load_search(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(NasReproError, match="not JSON"):
        load_search(broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"paper": "nasnet", "stage": "search", "experiment": "x"}))
    with pytest.raises(NasReproError, match="not a MetaQNN search record"):
        load_search(other)
    # a search over another space cannot hand its networks to this experiment
    rec = json.loads(search_record.read_text())
    rec["config"]["space"]["max_depth"] = 5
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(rec))
    cfg = compose_cfg("metaqnn_metaqnn-space_digits_final_reduced", f"search_record={moved}")
    with pytest.raises(NasReproError, match="another space"):
        run_experiment(cfg, tmp_path / "run")
    cfg = compose_cfg(
        "metaqnn_metaqnn-space_digits_final_reduced",
        f"search_record={search_record}",
        "final.ensemble=11",
    )
    with pytest.raises(NasReproError, match="final.ensemble=11"):
        run_experiment(cfg, tmp_path / "run2")
