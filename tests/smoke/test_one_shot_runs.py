"""Smoke tier for SPOS and FairNAS on NAS-Bench-201: each reduced experiment runs end to end
through the CLI on the CIFAR-10 JPEG copy with tiny overrides (2 batches, 1 epoch, 6 cells, one
search round), writes its ranking curve and sampled-choice counts, and looks the found cell up
in the table."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.spaces.nb201.arch import OPS, Nb201Arch

REPO = Path(__file__).resolve().parents[2]
TINY = [
    "supernet.epochs=1",
    "+trainer.limit_train_batches=2",
    "ranking.num_archs=6",
    "ranking.num_boot=50",
    "evaluation.bn_batches=1",
    "evaluation.val_batches=1",
    "search.population=4",
    "search.generations=1",
]


def run(tmp_path, data_root, *args):
    env = {**os.environ, "WANDB_MODE": "offline", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "common.cli", *args, f"data_root={data_root}", "logger=none"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (path,) = list((tmp_path / "outputs").rglob("record.json"))
    return json.loads(path.read_text())


@pytest.mark.parametrize("paper", ["spos", "fairnas"])
def test_reduced_experiment_end_to_end(tmp_path, shared_file, paper):
    shared_file("cifar10_yoongikim_jpeg_bytes.npz")
    root = shared_file("nb201.csv.gz").parent
    extra = (
        ["search.select=2", "search.mutations=2", "search.crossovers=2"] if paper == "spos" else []
    )
    rec = run(
        tmp_path,
        root,
        f"experiment={paper}_nb201_cifar10-jpeg_reduced",
        "torch_threads=1",
        *TINY,
        *extra,
    )
    assert rec["truncated_by"] == ["trainer.limit_train_batches"]
    found = Nb201Arch.parse(rec["protocol"]["found"])
    assert set(rec["metrics"]) == {
        "cifar10_valid", "cifar10_test", "cifar100_test", "imagenet16_test",
        "ranking_kendall_tau", "ranking_spearman", "ranking_p_at_top",
    }  # fmt: skip
    assert 10 <= rec["metrics"]["cifar10_test"][0] <= 95 and found.ops
    diag = rec["diagnostics"]
    (point,) = diag["ranking_curve"]
    assert point["n"] == 6 and len(point["kendall_tau_ci"]) == 2
    assert diag["ranking_anchor"]["n"] == 6  # the released 600-epoch scores on the same cells
    counts = diag["choice_counts"]
    assert set(counts) == {f"cell/{e}" for e in range(6)}
    if paper == "fairnas":  # 2 steps: every op of every edge trained twice
        assert all(c == dict.fromkeys(OPS, 2) for c in counts.values())
        assert rec["cost"]["path_steps"] == 10 and rec["cost"]["updates"] == 2
    else:
        assert all(sum(c.values()) == 2 for c in counts.values())
        assert rec["cost"]["path_steps"] == rec["cost"]["updates"] == 2
    assert rec["cost"]["search_evaluations"] == 8  # population 4 + one round of 4
    assert "jpeg" in rec["data_variant"] and "nb201-table" in rec["data_variant"]


def test_spos_flops_bins_from_the_command_line(tmp_path, shared_file, nb201_bench):
    shared_file("cifar10_yoongikim_jpeg_bytes.npz")
    root = shared_file("nb201.csv.gz").parent
    rec = run(
        tmp_path,
        root,
        "experiment=spos_nb201_cifar10-jpeg_reduced",
        "torch_threads=1",
        *TINY,
        "search.select=2",
        "search.mutations=2",
        "search.crossovers=2",
        "search.cost_limit=60.0",
        "supernet.sampler.bins=[10,130,40]",
    )
    assert rec["protocol"]["sampler"]["bins"] == [10, 130, 40]
    assert rec["config"]["search"]["cost_limit"] == 60.0
    found = Nb201Arch.parse(rec["protocol"]["found"])
    assert nb201_bench.value(found, "flops_m_cifar10_naslib") <= 60.0
