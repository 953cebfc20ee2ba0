"""Smoke tier for DARTS: the reduced-scale family runs search -> select -> retrain -> test
through the CLI; the NB-201 search looks its cell up in the table and logs the architecture
weights every epoch; the retrain stage (the shared DARTS-space protocol) reads a genotype file
and rejects a malformed one."""

import json
import os
import subprocess
import sys
from pathlib import Path

from reproductions.darts.models import GENOTYPES

REPO = Path(__file__).resolve().parents[2]


def run_cli(tmp_path, *args, ok=True):
    env = {**os.environ, "WANDB_MODE": "offline", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "common.cli", *args, "logger=none", "torch_threads=1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if ok:
        assert out.returncode == 0, out.stderr[-3000:]
    return out


def record_of(tmp_path):
    (path,) = list((tmp_path / "outputs").rglob("record.json"))
    return path.parent, json.loads(path.read_text())


def test_reduced_darts_end_to_end(tmp_path):
    run_cli(
        tmp_path,
        "experiment=darts-2nd_darts-space_digits_reduced",
        "search.epochs=1",
        "selection.num_searches=2",
        "selection.epochs=1",
        "retrain.epochs=1",
        "+trainer.limit_train_batches=3",
    )
    run_dir, rec = record_of(tmp_path)
    assert rec["scale"] == "reduced" and rec["protocol"]["order"] == "second"
    cands = rec["protocol"]["candidates"]
    assert len(cands) == 2 and all(Path(c["file"]).is_file() for c in cands)
    best = max(cands, key=lambda c: c["val_acc"])
    selected = json.loads((run_dir / "genotype.json").read_text())
    assert selected["str"] == best["genotype"] == rec["protocol"]["genotype"]
    assert set(rec["metrics"]) == {"test_acc", "test_error"}
    assert abs(rec["metrics"]["test_acc"][0] + rec["metrics"]["test_error"][0] - 100) < 1e-9
    # the brief-training evaluator trains each distinct genotype once
    assert rec["cost"]["selection_trainings"] == len({c["genotype"] for c in cands})
    lines = (run_dir / "alphas.jsonl").read_text().splitlines()
    assert len(lines) == 2  # one epoch logged per search
    entry = json.loads(lines[0])
    assert len(entry["alphas_softmax"]) == 2 and len(entry["alphas_softmax"][0]) == 14


def test_nb201_search_reads_the_table(tmp_path, shared_file):
    shared_file("cifar10_yoongikim_jpegq75_small.npz")
    table = shared_file("nb201.csv.gz")
    run_cli(
        tmp_path,
        "experiment=darts-1st_nb201_cifar10-jpeg_search_reduced",
        f"data_root={table.parent}",
        "search.epochs=2",
        "+trainer.limit_train_batches=2",
    )
    run_dir, rec = record_of(tmp_path)
    arch = json.loads((run_dir / "arch.json").read_text())["arch"]
    assert rec["protocol"]["found"] == arch
    assert len(rec["diagnostics"]["epochs"]) == 2
    assert 10 < rec["metrics"]["cifar10_test"][0] < 95
    assert "JPEG" in rec["data_variant"] or "jpeg" in rec["data_variant"]


def test_retrain_reads_a_genotype_file_and_rejects_a_bad_one(tmp_path):
    good = tmp_path / "darts_v2.json"
    GENOTYPES["DARTS_V2"].save(good)
    run_cli(
        tmp_path,
        "experiment=darts_darts-space_cifar10_retrain",
        f"genotype={good}",
        "data@retrain.data=digits",
        "retrain.data.split=train_val",
        "retrain.data.val_fraction=0.2",
        "retrain.network.C=8",
        "retrain.network.layers=5",
        "retrain.network.auxiliary=false",
        "retrain.epochs=1",
        "+trainer.limit_train_batches=2",
    )
    _, rec = record_of(tmp_path)
    assert rec["config"]["task"] == "common.protocols.darts_eval.retrain"
    assert rec["protocol"]["genotype"] == str(GENOTYPES["DARTS_V2"])
    bad = tmp_path / "bad.json"
    bad.write_text(good.read_text().replace("sep_conv_3x3", "sep_conv_9x9", 1))
    out = run_cli(
        tmp_path, "experiment=darts_darts-space_cifar10_retrain", f"genotype={bad}", ok=False
    )
    assert out.returncode == 2
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "sep_conv_9x9" in last
