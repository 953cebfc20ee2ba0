"""Smoke tier for ENAS on NB-201: the reduced experiment runs end to end through the CLI with
tiny budgets, writes the found cell, looks it up in the table, and logs the controller's
parameter-free share, entropy and the ranking diagnostic."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_reduced_enas_nb201_end_to_end(tmp_path, shared_file):
    shared_file("cifar10_yoongikim_jpegq75_small.npz")
    table = shared_file("nb201.csv.gz")
    env = {**os.environ, "WANDB_MODE": "offline", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "common.cli",
            "experiment=enas_nb201_cifar10-jpeg_search_reduced",
            f"data_root={table.parent}",
            "logger=none",
            "torch_threads=1",
            "search.epochs=2",
            "+trainer.limit_train_batches=2",
            "search.optim.ctl_train_steps=2",
            "search.optim.ctl_num_aggregate=3",
            "search.optim.epoch_samples=2",
            "search.optim.derive_samples=4",
            "search.optim.probe_samples=100",
            "search.ranking.num_archs=6",
            "search.ranking.bn_batches=1",
            "search.ranking.val_batches=1",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (path,) = list((tmp_path / "outputs").rglob("record.json"))
    rec = json.loads(path.read_text())
    arch = json.loads((path.parent / "arch.json").read_text())["arch"]
    assert rec["protocol"]["found"] == arch and rec["scale"] == "reduced"
    assert set(rec["metrics"]) == {
        "cifar10_valid",
        "cifar10_test",
        "cifar100_test",
        "imagenet16_test",
    }
    assert 9 < rec["metrics"]["cifar10_test"][0] < 95
    epochs = rec["diagnostics"]["epochs"]
    assert [e["epoch"] for e in epochs] == [0, 1]
    assert all(0 <= e["param_free_share"] <= 1 and e["policy_entropy"] > 0 for e in epochs)
    assert len((path.parent / "controller.jsonl").read_text().splitlines()) == 2
    ranking = rec["diagnostics"]["ranking"]
    tau = ranking["kendall_tau_bn_recalibrated"]
    assert ranking["num_archs"] == 6 and (tau != tau or -1 <= tau <= 1)  # NaN if all tie
    assert "jpeg" in rec["data_variant"]
