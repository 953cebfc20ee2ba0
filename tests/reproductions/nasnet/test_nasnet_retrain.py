"""The paper-scale retrain stage on a tiny NASNet-A network for two steps: the auxiliary head
and ScheduledDropPath reach the network, the test split is read once at the end, and the
record carries test error and parameters. The reduced retrain of a searched cell: one step
from a search's record, the record naming the cell, its source and its search; a record of
the other space is one error line and exit 2 through the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from common.cli import CONF_DIR
from common.errors import NasReproError
from common.spaces.nasnet.model import NASNetwork, NetworkConfig
from common.spaces.nasnet.published import NASNET_A_NORMAL, NASNET_A_REDUCTION
from common.spaces.nasnet.retrain import AuxView
from reproductions.nasnet.retrain import run, searched

REPO = Path(__file__).resolve().parents[3]


def test_aux_view_sets_drop_path_and_returns_aux() -> None:
    net = NASNetwork(NASNET_A_NORMAL, NASNET_A_REDUCTION, NetworkConfig(3, 4))
    view = AuxView(net).train()
    view.drop_path_prob = 0.3
    assert all(cell.drop_prob == 0.3 for cell in net.cells)
    logits, aux = view.forward_with_aux(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 10)
    assert view.eval()(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_retrain_runs_a_few_steps(shared_file) -> None:
    root = shared_file("cifar10_yoongikim_jpegq75_small.npz").parent
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                "experiment=nasnet_nasnet-space_cifar10_retrain",
                "data=cifar10_jpeg_small",
                f"data_root={root}",
                "data.max_train_samples=64",
                "data.max_eval_samples=32",
                "retrain.epochs=1",
                "+retrain.model_kwargs.num_cells=3",
                "+retrain.model_kwargs.num_conv_filters=4",
                "trainer.accelerator=cpu",
            ],
        )
    out = run(cfg, None)
    assert out.protocol["notation"] == "1 @ 96"  # 4 filters x 4 x 6 output states (NASNet-A)
    assert 0 <= out.metrics["test_error"][0] <= 100
    assert out.metrics["params_M"][0] < 0.1


def retrain_searched(experiment: str, genotype, root, *overrides: str):
    """The reduced retrain of a searched cell through its task, one step of a 1 @ F=4 net."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                f"experiment={experiment}",
                f"genotype={genotype}",
                "data=cifar10_jpeg_small",
                f"data_root={root}",
                "data.max_train_samples=40",
                "data.max_eval_samples=16",
                "retrain.num_conv_filters=4",
                "retrain.epochs=1",
                "+trainer.max_steps=1",
                "trainer.accelerator=cpu",
                *overrides,
            ],
        )
    return cfg, searched(cfg, None)


def test_searched_cell_retrains_from_its_search_record(shared_file) -> None:
    root = shared_file("cifar10_yoongikim_jpegq75_small.npz").parent
    record = REPO / "results/nasnet/nasnet_nasnet-space_cifar10-jpeg_random_reduced__seed0.json"
    cfg, out = retrain_searched(
        "nasnet_nasnet-space_cifar10-jpeg_retrain_reduced", record, root, "retrain.num_cells=3"
    )
    best = json.loads(record.read_text())["diagnostics"]["best_arch"]
    assert out.protocol["searched_cell"] == best
    assert out.protocol["search"] == "nasnet_nasnet-space_cifar10-jpeg_random_reduced"
    assert out.protocol["source"]["genotype"] == str(record)
    assert out.protocol["source"]["strategy"] == "random"
    # N = 1 of a cell pair whose normal cell outputs two add blocks: 4 filters x 4 x 1 x 1
    assert out.protocol["notation"] == "1 @ 16"
    assert {"test_acc", "val_acc", "test_error", "params_M"} <= set(out.metrics)
    assert 0 <= out.metrics["val_acc"][0] <= 100 and 0 <= out.metrics["test_acc"][0] <= 100
    assert cfg.data.split == "train_val"  # a held-out split; the test split is read once


def test_bad_genotype_is_one_line_and_exit_2(tmp_path) -> None:
    record = REPO / "results/pnas/pnas_pnas-space_cifar10-jpeg_reduced__seed0.json"
    env = {**os.environ, "WANDB_MODE": "offline", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "common.cli",
            "experiment=nasnet_nasnet-space_cifar10-jpeg_retrain_reduced",
            f"genotype={record}",
            "logger=none",
            "data_root=/nonexistent",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "one cell of the pnas space" in last
    assert "pair of the nasnet space" in last


def test_a_search_named_experiment_takes_only_that_search(shared_file) -> None:
    root = shared_file("cifar10_yoongikim_jpegq75_small.npz").parent
    ppo = REPO / "results/nasnet/nasnet_nasnet-space_cifar10-jpeg_reduced__seed0.json"
    with pytest.raises(NasReproError, match="retrains the cell of 'nasnet_nasnet-space_cifar10"):
        retrain_searched("nasnet_nasnet-space_cifar10-jpeg_random_retrain_reduced", ppo, root)
