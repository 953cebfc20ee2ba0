"""The NAS-RL CNN search end to end on tiny children (CIFAR-10 JPEG small copy, 8 px): the
record contract (children in evaluation order, curve group and label), the depth schedule,
the controller's updates, and the child trainer's determinism and reward rule."""

import pytest
from hydra import compose, initialize_config_dir

from common.cli import CONF_DIR
from reproductions.nas_rl import search
from reproductions.nas_rl.child import train_child
from reproductions.nas_rl.space import NasRlSpace

TINY = [
    "search.num_children=6",
    "search.batch=2",
    "search.depth.start=1",
    "search.depth.step=1",
    "search.depth.every=2",
    "search.depth.max=3",
    "child.n_train=200",
    "child.n_val=100",
    "child.image_size=8",
    "child.epochs=2",
    "child.crop_padding=1",
]


class Logger:
    def log(self, metrics, step):
        pass


def tiny_cfg(shared_data, experiment, *extra):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(
            config_name="config",
            overrides=[f"experiment={experiment}", f"data_root={shared_data}", *TINY, *extra],
        )


@pytest.mark.parametrize(
    "experiment, label",
    [
        ("nas-rl_nas-rl-space_cifar10-jpeg_reduced", "NAS-RL (REINFORCE)"),
        ("nas-rl_nas-rl-space_cifar10-jpeg_random_reduced", "random search"),
    ],
)
def test_search_writes_the_record_contract(shared_data, experiment, label):
    out = search.run(tiny_cfg(shared_data, experiment), Logger())
    kids = out.diagnostics["children"]
    assert [c["index"] for c in kids] == list(range(6))
    assert [c["depth"] for c in kids] == [1, 1, 2, 2, 3, 3]
    assert {"arch", "reward", "cost_s", "cached"} <= set(kids[0])
    assert out.diagnostics["curve_group"] == "nas-rl_nas-rl-space_cifar10-jpeg"
    assert out.diagnostics["curve_label"] == label
    assert out.metrics["best_val_acc"] == [max(c["reward"] for c in kids)]
    # the final child is the best one retrained with the same seeds: the same validation score
    assert out.diagnostics["best_retrain_val_acc"] == pytest.approx(out.metrics["best_val_acc"][0])
    updates = out.diagnostics["controller_updates"]
    assert len(updates) == (3 if label.startswith("NAS-RL") else 0)


def test_paper_scale_config_runs_two_children(shared_data):
    # the paper's command with tiny overrides, children inline instead of SLURM
    cfg = tiny_cfg(
        shared_data,
        "nas-rl_nas-rl-space_cifar10-jpeg_search",
        "children=inline",
        "child.data_file=cifar10_yoongikim_jpegq75_small.npz",
    )
    cfg.search.num_children, cfg.search.depth.start = 2, 2
    out = search.run(cfg, Logger())
    assert len(out.diagnostics["children"]) == 2
    assert out.protocol["space"]["filters"] == [24, 36, 48, 64]


def test_child_is_deterministic_and_rewards_the_best_of_the_last_epochs(shared_data):
    arch = NasRlSpace.make(filters=(4, 6, 8, 10)).decode([1, 1, 0, 2, 2, 1, 1], depth=2)
    cfg = {
        "data_root": str(shared_data),
        "data_file": "cifar10_yoongikim_jpegq75_small.npz",
        "n_train": 200,
        "n_val": 100,
        "image_size": 8,
        "epochs": 3,
        "reward_epochs": 2,
        "crop_padding": 1,
        "torch_threads": 1,
    }
    a, b = train_child(arch.to_spec(), cfg), train_child(arch, cfg)
    assert a["val_curve"] == b["val_curve"] and a["reward"] == b["reward"]
    assert a["reward"] == max(a["val_curve"][-2:])
    assert "test_acc" not in a  # the test split is read only when asked
