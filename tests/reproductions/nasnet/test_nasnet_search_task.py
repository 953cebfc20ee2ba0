"""The NASNet search task with a synthetic child (no training): as many samples as asked for,
in minibatches with one PPO update each, records that follow the record contract, and a PPO
controller whose later samples beat its first ones and random search's on a learnable reward.
The best pair goes into the run folder's cell.json and protocol.found (the retrain's input)."""

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

import reproductions.nasnet.search_task as task
from common.cli import CONF_DIR
from common.spaces.nasnet.found import arch_text, load_found

PPO = "nasnet_nasnet-space_cifar10-jpeg_reduced"
RANDOM = "nasnet_nasnet-space_cifar10-jpeg_random_reduced"


class NullLogger:
    def log(self, *args, **kwargs) -> None:
        pass


def fake_child(arch, **settings) -> dict:
    """Reward (%): the share of separable convolutions in both cells, plus 10."""
    ops = [op for cell in arch for b in cell.blocks for op in (b.op_a, b.op_b)]
    return {"reward": 10.0 + 80.0 * np.mean([op.startswith("sep_conv") for op in ops])}


def compose_run(name: str, monkeypatch, *overrides: str):
    monkeypatch.setattr(task, "train_child", fake_child)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[f"experiment={name}", "data_root=/nonexistent", *overrides],
        )
    return task.run(cfg, NullLogger())


@pytest.mark.parametrize("name", [PPO, RANDOM])
def test_record_contract(name, monkeypatch) -> None:
    out = compose_run(name, monkeypatch, "search.num_children=25")
    d = out.diagnostics
    assert [c["index"] for c in d["children"]] == list(range(25))
    assert all({"arch", "reward", "cost_s", "cached"} <= set(c) for c in d["children"])
    assert d["curve_group"] == "nasnet_nasnet-space_cifar10-jpeg"
    assert out.metrics["best_val_acc"] == [max(c["reward"] for c in d["children"])]
    assert out.cost["children_trained"] == sum(not c["cached"] for c in d["children"])
    if name == PPO:
        assert d["curve_label"] == "NASNet (PPO controller)"
        assert [u["children"] for u in d["ppo_updates"]] == [8, 16, 24, 25]
    else:
        assert d["curve_label"] == "random search" and d["ppo_updates"] == []


def test_ppo_learns_a_learnable_reward(monkeypatch) -> None:
    rewards = {}
    for name in (PPO, RANDOM):
        out = compose_run(name, monkeypatch, "search.num_children=200")
        rewards[name] = [c["reward"] for c in out.diagnostics["children"]]
    ppo, rand = np.array(rewards[PPO]), np.array(rewards[RANDOM])
    assert ppo[-50:].mean() > ppo[:50].mean() + 10
    assert ppo[-50:].mean() > rand[-50:].mean() + 10


class DirLogger(NullLogger):
    def __init__(self, run_dir) -> None:
        self.run_dir = run_dir


def test_found_pair_is_handed_to_the_retrain(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(task, "train_child", fake_child)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[f"experiment={RANDOM}", "data_root=/nonexistent", "search.num_children=9"],
        )
    out = task.run(cfg, DirLogger(tmp_path))
    best = max(out.diagnostics["children"], key=lambda c: c["reward"])
    assert out.protocol["found"] == best["arch"] == out.diagnostics["best_arch"]
    assert out.protocol["artefact"] == str(tmp_path / "cell.json")
    pair, source = load_found(tmp_path / "cell.json", "nasnet", "nasnet")
    assert arch_text(pair) == best["arch"] and source["strategy"] == "random"
    assert source["search_best_val_acc"] == best["reward"]
