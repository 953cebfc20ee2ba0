"""Data parallel through the ``nasrepro`` CLI (slow tier): a reduced DARTS search + selection +
retrain with ``trainer.accelerator=cpu trainer.devices=2 trainer.strategy=ddp_spawn`` runs end
to end and leaves one run folder with one record, one metrics log and one line per search
epoch: each fit runs in two spawned processes, only rank 0 logs and writes, and what comes back
to the task (metrics, the search's architecture history) is rank 0's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.resume.helpers import run_ok

pytestmark = pytest.mark.slow

DDP = [
    "experiment=darts-1st_darts-space_digits_reduced",
    "trainer.accelerator=cpu",
    "trainer.devices=2",
    "trainer.strategy=ddp_spawn",
    "search.epochs=2",
    "search.network.C=4",
    "search.network.layers=3",
    "data.max_train_samples=200",
    "selection.epochs=1",
    "retrain.epochs=1",
    "retrain.network.C=4",
    "retrain.network.layers=3",
    "retrain.data.max_train_samples=200",
    "logger=none",
    "hydra.run.dir=run",
]


def test_darts_search_and_retrain_on_two_processes(tmp_path):
    record = run_ok(tmp_path, *DDP)
    runs = list(tmp_path.rglob("record.json"))
    assert runs == [tmp_path / "run" / "record.json"]  # one run folder, one record
    assert record["config"]["trainer"]["devices"] == 2
    run = tmp_path / "run"
    # two searches of 2 epochs: 4 architecture lines, written by rank 0 alone
    alphas = [json.loads(line) for line in (run / "alphas.jsonl").read_text().splitlines()]
    assert [a["epoch"] for a in alphas] == [0, 1, 0, 1]
    log = (run / "metrics.csv").read_text().splitlines()
    assert sum(",arch/genotype," in line for line in log) == 4
    assert sum(",selection/val_acc," in line for line in log) == 2
    # what the spawned fits handed back: rank 0's history and metrics, in the record
    candidates = record["protocol"]["candidates"]
    assert len(candidates) == 2 and all(0 <= c["val_acc"] <= 100 for c in candidates)
    assert 0 <= record["metrics"]["test_acc"][0] <= 100
    assert [Path(p).name for p in sorted((run / "checkpoints").glob("fit*/done.pt"))] == [
        "done.pt"
    ] * 5
    # the test pass ran on one device over the whole test split, logged beside the retrain
    retrain_log = (run / "lightning" / "fit5" / "metrics.csv").read_text()
    assert "test/acc" in retrain_log and "train/acc" in retrain_log
