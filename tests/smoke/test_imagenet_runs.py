"""Smoke tier for the paper-scale ImageNet experiments: each runs a few steps through the CLI on
a tiny synthetic ImageFolder tree (3 classes, 18 + 6 images), with the paper's networks at
224 x 224 and only the budgets cut (two iterations, batches of 2, one search round): the SPOS
and FairNAS searches write a found architecture, the retrains train the published models (and
a found one) and test them, and every record says it was truncated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.supernets.fairnas_mobilenet import OPS as FAIRNAS_OPS
from common.supernets.spos_shufflenet import OPS as SPOS_OPS
from tests.common.data.imagenet_tree import write_tree

REPO = Path(__file__).resolve().parents[2]
TINY = [
    "torch_threads=1",
    "logger=none",
    "data.num_classes=3",
    "data.num_workers=0",
    "data.batch_size=2",
    "data.eval_batch_size=2",
]
STEPS = ["+trainer.max_steps=2"]
SEARCH = [
    "data.val_per_class=1",
    "evaluation.bn_batches=1",
    "evaluation.bn_batch_size=2",
    "evaluation.val_batches=1",
    "evaluation.val_batch_size=2",
    "search.population=4",
    "search.generations=1",
]
# OpenCV is not a dependency: SPOS's eval resize runs on its torch backend here (README)
NO_CV2 = ["data.eval_transform.transforms.0.backend=torch"]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    write_tree(root / "imagenet")
    return root


def run(tmp_path: Path, data_root: Path, *args: str) -> tuple[dict, Path]:
    env = {**os.environ, "WANDB_MODE": "offline", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "common.cli", *args, f"data_root={data_root}", *TINY],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (path,) = list((tmp_path / "outputs").rglob("record.json"))
    return json.loads(path.read_text()), path.parent


@pytest.mark.parametrize(
    "paper, extra, paths_per_step",
    [
        ("spos", [*NO_CV2, "search.select=2", "search.mutations=2", "search.crossovers=2"], 1),
        ("fairnas", [], 6),
    ],
)
def test_imagenet_search_writes_a_found_architecture(
    tmp_path, data_root, paper, extra, paths_per_step
):
    space = f"{paper}-space"
    rec, run_dir = run(
        tmp_path, data_root, f"experiment={paper}_{space}_imagenet_search", *STEPS, *SEARCH, *extra
    )
    assert rec["truncated_by"] == ["trainer.max_steps"] and rec["scale"] == "paper"
    assert rec["cost"]["iterations_run"] == 2 and rec["cost"]["iterations_schedule"] == 150_000
    assert rec["cost"]["path_steps"] == 2 * paths_per_step
    assert rec["cost"]["search_evaluations"] == 8  # population 4 + one round of 4
    found = json.loads((run_dir / "found_arch.json").read_text())
    assert found["choices"] == rec["protocol"]["found"] and found["mflops"] > 250
    assert rec["metrics"] == {"found_mflops": [found["mflops"]]}
    counts = rec["diagnostics"]["choice_counts"]
    assert len(counts) == (20 if paper == "spos" else 19)
    ops = SPOS_OPS if paper == "spos" else FAIRNAS_OPS
    if paper == "fairnas":  # strict fairness: every choice of every layer once a step
        assert all(c == dict.fromkeys(ops, 2) for c in counts.values())
    else:
        assert found["mflops"] <= 330  # search.py --flops-limit 330e6
        assert rec["protocol"]["sampler"]["bins"] == [290, 360, 10]
    assert rec["protocol"]["data"]["n_val"] == 3 and rec["protocol"]["data"]["n_train"] == 15


@pytest.mark.parametrize(
    "experiment, extra, truncated",
    [
        ("spos_spos-space_imagenet_retrain", [*NO_CV2, *STEPS], "trainer.max_steps"),
        ("fairnas-a_fairnas-space_imagenet_retrain", STEPS, "trainer.max_steps"),
        ("fairnas-b_fairnas-space_imagenet_retrain", STEPS, "trainer.max_steps"),
        ("fairnas-c_fairnas-space_imagenet_retrain", ["debug=fdr"], "trainer.fast_dev_run"),
    ],
)
def test_imagenet_retrain_of_the_published_models(
    tmp_path, data_root, experiment, extra, truncated
):
    rec, _ = run(tmp_path, data_root, f"experiment={experiment}", *extra)
    assert rec["truncated_by"] == [truncated]
    assert set(rec["metrics"]) == {"top1_acc", "top5_acc", "top1_error", "top5_error"}
    assert rec["metrics"]["top5_acc"] == [100.0]  # 3 classes: the top 5 hold every label
    assert rec["protocol"]["iterations"] == 300_000 and rec["protocol"]["data"]["n_test"] == 6
    assert rec["protocol"]["network"].startswith("published model reproductions.")
    assert rec["cost"]["steps_run"] == (1 if truncated.endswith("fast_dev_run") else 2)
    if experiment.startswith("spos"):  # SPOS's BN post-process: capped at one pass of 9 batches
        assert rec["protocol"]["bn_post_process_batches"] == 9


def test_a_found_architecture_retrains_from_its_file(tmp_path, data_root):
    found = tmp_path / "found_arch.json"
    choices = [0, 1, 2, 3] * 5
    found.write_text(json.dumps({"space": "spos_shufflenet", "choices": choices, "mflops": 0}))
    rec, _ = run(
        tmp_path,
        data_root,
        "experiment=spos_spos-space_imagenet_retrain",
        f"arch_file={found}",
        *NO_CV2,
        *STEPS,
    )
    assert rec["protocol"]["network"].startswith(f"spos_shufflenet {choices}")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    refused = subprocess.run(
        [sys.executable, "-m", "common.cli", "experiment=fairnas-a_fairnas-space_imagenet_retrain",
         f"arch_file={found}", f"data_root={data_root}", *TINY, *STEPS],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert refused.returncode == 2 and "not a 'fairnas_mobilenet' one" in refused.stderr
