"""The end-to-end PNAS task with a synthetic child (no training): the progressive run trains
level1 + (B - 1) K children, its random-search twin as many, both records follow the record
contract, and on a reward the predictor can learn the progressive search finds better cells
than random search. The best cell goes into the run folder's cell.json and protocol.found
(the retrain's input)."""

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

import reproductions.pnas.search_task as task
from common.cli import CONF_DIR
from common.spaces.nasnet import PNAS_SPACE, Cell
from common.spaces.nasnet.found import load_found


class NullLogger:
    def log(self, *args, **kwargs) -> None:
        pass


def fake_child(cell: Cell, **settings) -> dict:
    """Reward: 20 points per sep_conv_3x3 reading an input, a little per block (deterministic)."""
    good = sum(
        (op == "sep_conv_3x3") + (op == "max_pool_3x3") * 0.5
        for b in cell.blocks
        for op in (b.op_a, b.op_b)
    )
    return {"reward": 10.0 + 20.0 * good / (2 * cell.num_blocks) + cell.num_blocks}


def compose_run(name: str, monkeypatch, *overrides: str):
    monkeypatch.setattr(task, "train_child", fake_child)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[f"experiment={name}", "data_root=/nonexistent", *overrides],
        )
    return task.run(cfg, NullLogger())


@pytest.mark.parametrize(
    "name", ["pnas_pnas-space_cifar10-jpeg_reduced", "pnas_pnas-space_cifar10-jpeg_random_reduced"]
)
def test_children_count_and_record_contract(name, monkeypatch) -> None:
    out = compose_run(name, monkeypatch, "search.predictor.epochs=5", "search.predictor.size=2")
    d = out.diagnostics
    assert len(d["children"]) == 16 + 2 * 12  # level1 + (B - 1) K, both strategies
    assert [c["index"] for c in d["children"]] == list(range(40))
    assert all({"arch", "reward", "cost_s", "cached"} <= set(c) for c in d["children"])
    assert d["curve_group"] == "pnas_pnas-space_cifar10-jpeg"
    assert out.metrics["best_val_acc"] == [max(c["reward"] for c in d["children"])]
    if "random" in name:
        assert d["curve_label"] == "random search"
        assert {c["level"] for c in d["children"]} == {3}
    else:
        assert d["curve_label"] == "PNAS (progressive, predictor)"
        assert [c["level"] for c in d["children"]] == [1] * 16 + [2] * 12 + [3] * 12
        assert set(d["predictor_rank_correlation"]) == {"2", "3"}
        assert all("predicted" in c for c in d["children"][16:])


def test_progressive_beats_random_on_a_learnable_reward(monkeypatch) -> None:
    best = {}
    for name in (
        "pnas_pnas-space_cifar10-jpeg_reduced",
        "pnas_pnas-space_cifar10-jpeg_random_reduced",
    ):
        runs = [
            compose_run(name, monkeypatch, f"seed={s}").metrics["best_val_acc"][0] for s in (0, 1)
        ]
        best[name] = np.mean(runs)
    assert (
        best["pnas_pnas-space_cifar10-jpeg_reduced"]
        > best["pnas_pnas-space_cifar10-jpeg_random_reduced"] + 5
    )


def test_encoding_and_random_cells() -> None:
    rng = np.random.default_rng(0)
    cells = [task.random_cell(PNAS_SPACE, 3, rng) for _ in range(50)]
    assert all(c.num_blocks == 3 for c in cells) and len({c.key() for c in cells}) == 50
    tokens = task.encode(cells[0], PNAS_SPACE)
    assert len(tokens) == 3 and all(1 <= t <= 8 for blk in tokens for t in blk)


class DirLogger(NullLogger):
    def __init__(self, run_dir) -> None:
        self.run_dir = run_dir


def test_found_cell_is_handed_to_the_retrain(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(task, "train_child", fake_child)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                "experiment=pnas_pnas-space_cifar10-jpeg_random_reduced",
                "data_root=/nonexistent",
                "search.level1=4",
                "search.beam=2",
            ],
        )
    out = task.run(cfg, DirLogger(tmp_path))
    best = max(out.diagnostics["children"], key=lambda c: c["reward"])
    assert len(out.diagnostics["children"]) == 4 + 2 * 2
    assert out.protocol["found"] == best["arch"] == out.diagnostics["best_arch"]
    cell, source = load_found(out.protocol["artefact"], "pnas", "pnas")
    assert str(cell) == best["arch"] and source["search_best_val_acc"] == best["reward"]
