"""NAS-RL's stage after the search: a grid of training settings scored on validation, the best
point trained longer and tested once; the found network parsed back from its record."""

import json

import pytest
from hydra import compose, initialize_config_dir

from common.cli import CONF_DIR
from common.errors import NasReproError
from reproductions.nas_rl import final, search
from reproductions.nas_rl.child import DEFAULTS, train_child
from reproductions.nas_rl.space import NasRlArch, NasRlSpace

from .test_search import TINY, Logger


def compose_cfg(shared_data, experiment, *extra):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(
            config_name="config",
            overrides=[f"experiment={experiment}", f"data_root={shared_data}", *TINY, *extra],
        )


@pytest.fixture(scope="module")
def search_record(shared_data, tmp_path_factory):
    """The record of a real tiny controller search (6 children of 2 epochs, 8 px)."""
    cfg = compose_cfg(shared_data, "nas-rl_nas-rl-space_cifar10-jpeg_reduced")
    out = search.run(cfg, Logger())
    record = {
        "paper": "nas_rl",
        "stage": "search",
        "experiment": cfg.experiment_name,
        "seed": 0,
        "metrics": out.metrics,
        "protocol": out.protocol,
        "diagnostics": out.diagnostics,
    }
    path = tmp_path_factory.mktemp("search") / "record.json"
    path.write_text(json.dumps(record))
    return path


def test_arch_text_parses_back_to_the_same_arch():
    space = NasRlSpace.make(strides=(1, 2, 3))
    arch = space.decode([0, 1, 2, 1, 3, 2, 3, 0, 1, 1, 1], depth=2)
    assert str(arch) == "1x3/64/s3x2|5x7/36/s1x2<-0"
    assert NasRlArch.parse(str(arch)) == arch
    assert str(NasRlArch.parse("1x3/12|7x5/16<-0|5x1/12<-0,1")) == "1x3/12|7x5/16<-0|5x1/12<-0,1"
    for bad in ("3x3", "3x3/12|5x5/12<-1", "3x3/12<-"):
        with pytest.raises(NasReproError):
            NasRlArch.parse(bad)


def test_grid_is_every_combination_and_refuses_unknown_keys():
    points = final.grid_points({"lr": [0.1, 0.2], "bn_eps": [1e-5, 1e-3, 1e-2]})
    assert len(points) == 6 and points[0] == {"lr": 0.1, "bn_eps": 1e-5}
    assert points[-1] == {"lr": 0.2, "bn_eps": 1e-2}
    with pytest.raises(NasReproError, match="final.grid keys \\['momentum'\\]"):
        final.grid_points({"lr": [0.1], "momentum": [0.9]})
    with pytest.raises(NasReproError, match="final.grid.lr=\\[\\]"):
        final.grid_points({"lr": []})


def test_bn_eps_reaches_the_network(shared_data):
    from reproductions.nas_rl.network import NasRlNet

    arch = NasRlArch.parse("3x3/4|1x1/4<-0")
    assert all(m.eps == 1e-3 for m in NasRlNet(arch, bn_eps=1e-3).modules() if hasattr(m, "eps"))


def test_final_picks_the_grid_point_on_validation_and_trains_it_longer(shared_data, search_record):
    cfg = compose_cfg(
        shared_data,
        "nas-rl_nas-rl-space_cifar10-jpeg_final_reduced",
        f"search_record={search_record}",
        "final.grid_epochs=1",
        "final.epochs=3",
        "final.grid.lr=[0.02,0.2]",
        "final.grid.weight_decay=[1e-4]",
    )
    out = final.run(cfg, Logger())
    searched = json.loads(search_record.read_text())
    assert out.protocol["arch"] == searched["diagnostics"]["best_arch"]
    assert out.protocol["search"] == "nas-rl_nas-rl-space_cifar10-jpeg_reduced"
    grid = out.diagnostics["grid"]
    assert [(g["lr"], g["weight_decay"]) for g in grid] == [(0.02, 1e-4), (0.2, 1e-4)]
    best = max(grid, key=lambda g: g["val_reward"])
    assert out.protocol["chosen"] == {"lr": best["lr"], "weight_decay": best["weight_decay"]}
    assert len(out.diagnostics["val_curve"]) == 3  # the longer training
    # the reported numbers are those of the network trained alone with the chosen point
    child = {**DEFAULTS, **dict(cfg.child), "data_root": str(shared_data), "seed": 0}
    alone = train_child(
        NasRlArch.parse(out.protocol["arch"]),
        {**child, **out.protocol["chosen"], "epochs": 3, "evaluate_test": True},
    )
    assert out.metrics == {"test_acc": [alone["test_acc"]], "val_acc": [alone["reward"]]}


def test_records_of_other_searches_or_data_are_refused(shared_data, search_record, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"paper": "metaqnn", "stage": "search", "experiment": "m"}))
    with pytest.raises(NasReproError, match="not a NAS-RL CNN search record \\('m'\\)"):
        final.load_search(other)
    cfg = compose_cfg(
        shared_data,
        "nas-rl_nas-rl-space_cifar10-jpeg_final_reduced",
        f"search_record={search_record}",
        "child.image_size=16",  # the search's children saw 8 px images
    )
    with pytest.raises(NasReproError, match="its children trained on"):
        final.run(cfg, Logger())
