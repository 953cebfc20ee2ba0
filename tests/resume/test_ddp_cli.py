"""Data parallel through the ``nasrepro`` CLI (slow tier): a reduced DARTS search + selection +
retrain with ``trainer.accelerator=cpu trainer.devices=2`` runs end to end under both of
Lightning's launchers and leaves one run folder with one record, one metrics log, one line per
search epoch and (with the default logger, W&B offline) one W&B run:

- ``ddp_spawn``: each fit runs in two spawned processes; what comes back to the task (metrics,
  weights, the search's architecture history) is rank 0's;
- ``ddp`` (what users run on GPUs): Lightning re-runs the command line for rank 1 (with
  ``hydra.run.dir=<the run's folder> hydra.output_subdir=null``), and both ranks run the whole
  task; every fit hands rank 0's metrics and weights to both, rank 1 writes only into a scratch
  folder outside the run (removed when it exits), and both must end with the same result.
"""

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
    "search.epochs=2",
    "search.network.C=4",
    "search.network.layers=3",
    "data.max_train_samples=200",
    "selection.epochs=1",
    "retrain.epochs=1",
    "retrain.network.C=4",
    "retrain.network.layers=3",
    "retrain.data.max_train_samples=200",
]
# what rank 0 writes; anything else in the run folder (rank 1's Hydra log, files) fails
RUN_FILES = {
    ".hydra",
    "alphas.jsonl",
    "checkpoints",
    "cli.log",
    "genotype.json",
    "genotype_search0.json",
    "genotype_search1.json",
    "lightning",
    "metrics.csv",
    "record.json",
}


@pytest.mark.parametrize(
    ("strategy", "logger"), [("ddp_spawn", "offline"), ("ddp", "none"), ("ddp", "offline")]
)
def test_darts_search_and_retrain_on_two_processes(tmp_path, strategy, logger):
    scratch = tmp_path / "tmp"  # where rank 1's scratch folder goes (TMPDIR)
    scratch.mkdir()
    env = {"TMPDIR": str(scratch), "WANDB_MODE": "offline"}
    args = [*DDP, f"trainer.strategy={strategy}", f"logger={logger}"]
    record = run_ok(tmp_path, *args, "hydra.run.dir=run", env=env)
    runs = list(tmp_path.rglob("record.json"))
    assert runs == [tmp_path / "run" / "record.json"]  # one run folder, one record
    assert record["config"]["trainer"]["devices"] == 2
    run = tmp_path / "run"
    wandb = {"wandb"} if logger == "offline" else set()
    assert {p.name for p in run.iterdir()} == RUN_FILES | wandb
    assert sorted(p.name for p in (run / ".hydra").iterdir()) == [
        "config.yaml",
        "hydra.yaml",
        "overrides.yaml",
    ]
    assert not list(scratch.glob("nasrepro-rank*"))  # rank 1's scratch folder is gone
    # two searches of 2 epochs: 4 architecture lines, written by rank 0 alone
    alphas = [json.loads(line) for line in (run / "alphas.jsonl").read_text().splitlines()]
    assert [a["epoch"] for a in alphas] == [0, 1, 0, 1]
    log = (run / "metrics.csv").read_text().splitlines()
    assert sum(",arch/genotype," in line for line in log) == 4
    assert sum(",selection/val_acc," in line for line in log) == 2
    # what the fits handed back: rank 0's history and metrics, in the record
    candidates = record["protocol"]["candidates"]
    assert len(candidates) == 2 and all(0 <= c["val_acc"] <= 100 for c in candidates)
    assert [c["genotype"] for c in candidates] == [alphas[1]["genotype"], alphas[3]["genotype"]]
    best = max(candidates, key=lambda c: c["val_acc"])
    assert json.loads((run / "genotype.json").read_text()) == json.loads(
        Path(best["file"]).read_text()
    )
    assert 0 <= record["metrics"]["test_acc"][0] <= 100
    if strategy == "ddp":  # rank 1 ran the task too and ended with rank 0's result
        assert record["diagnostics"]["data_parallel"] == {
            "world_size": 2,
            "same_result_on_all_ranks": True,
        }
    assert [Path(p).name for p in sorted((run / "checkpoints").glob("fit*/done.pt"))] == [
        "done.pt"
    ] * 5
    assert sorted(p.name for p in (run / "lightning").iterdir()) == [f"fit{i}" for i in range(1, 6)]
    # the test pass ran on one device over the whole test split, logged beside the retrain
    retrain_log = (run / "lightning" / "fit5" / "metrics.csv").read_text()
    assert "test/acc" in retrain_log and "train/acc" in retrain_log
    if logger == "offline":  # one W&B run, rank 0's
        wandb_runs = list(tmp_path.rglob("offline-run-*"))
        assert [p.parent for p in wandb_runs] == [run / "wandb"]
        assert (next(wandb_runs[0].glob("run-*.wandb"))).stat().st_size > 0
    if (strategy, logger) == ("ddp", "none"):
        # resume with the retrain unfinished: rank 1 is re-launched with resume=run and
        # hydra.run.dir=run, passes the resume checks, and both ranks skip the finished fits
        (run / "checkpoints" / "fit5" / "done.pt").unlink()
        resumed = run_ok(tmp_path, *args, "resume=run", env=env)
        assert resumed["protocol"]["candidates"] == candidates
        assert resumed["metrics"] == record["metrics"]
        assert resumed["diagnostics"]["data_parallel"]["same_result_on_all_ranks"]
        assert list(tmp_path.rglob("record.json")) == [run / "record.json"]
        assert {p.name for p in run.iterdir()} == RUN_FILES | {"metrics.before-resume1.csv"}
