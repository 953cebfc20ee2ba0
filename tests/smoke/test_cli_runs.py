"""Smoke tier: experiments run end to end through the real CLI on real data (few steps),
write a complete record, a CSV log and an offline W&B run, and print their leaderboard rows."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(tmp_path, *args):
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "common.cli", *args],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def only_record(tmp_path) -> tuple[Path, dict]:
    (path,) = list((tmp_path / "outputs").rglob("record.json"))
    return path.parent, json.loads(path.read_text())


def test_query_search_experiment(tmp_path, nb201_table):
    out = run_cli(
        tmp_path,
        "experiment=regularized-evolution_nb201_cifar10",
        f"data_root={nb201_table.parent}",
        "protocol.num_runs=5",
        "seed=3",
    )
    assert "Leaderboard rows of regularized-evolution_nb201_cifar10" in out.stdout
    assert "| CIFAR-10 test (cifar10, ori-test) | 93.92 ± 0.30 (n=500) |" in out.stdout
    run_dir, rec = only_record(tmp_path)
    assert rec["seed"] == 3 and rec["scale"] == "paper"
    assert len(rec["metrics"]["cifar10_test"]) == 5
    assert len(rec["diagnostics"]["found_archs"]) == 5  # each run's found cell, in run order
    assert rec["protocol"]["time_budget_s"] == 12000 and rec["protocol"]["num_searches"] == 5
    assert rec["config"]["search"]["population_size"] == 10
    assert rec["packages"]["torch"] and rec["device"].startswith(("cpu", "cuda"))
    assert (run_dir / "metrics.csv").read_text().count("cifar10_test") == 5
    assert len((run_dir / "runs.csv").read_text().splitlines()) == 6
    assert list((run_dir / "wandb").glob("offline-run-*"))
    assert not (tmp_path / "results").exists()  # not canonical unless asked


def test_multirun_seeds(tmp_path, nb201_table):
    out = run_cli(
        tmp_path,
        "-m",
        "experiment=random-search_nb201_cifar10",
        f"data_root={nb201_table.parent}",
        "protocol.num_runs=2",
        "logger=none",
        "seed=0,1",
        "record.canonical=true",
    )
    records = sorted((tmp_path / "results" / "random_search").glob("*.json"))
    assert [p.name for p in records] == [
        "random-search_nb201_cifar10__seed0.json",
        "random-search_nb201_cifar10__seed1.json",
    ]
    a, b = (json.loads(p.read_text())["metrics"]["cifar10_test"] for p in records)
    assert a != b  # different seeds search differently
    # the sweep's summary pools the seeds and shows the NB-201 board of the sweep
    assert "random-search_nb201_cifar10, pooled over seeds 0, 1:" in out.stdout
    assert "| random-search_nb201_cifar10 (n=4) |" in out.stdout


def test_readme_command_1_reruns_nb201_rows_from_the_embedded_table(tmp_path):
    """README command 1 (with fewer runs): REA, RS and REINFORCE as one multirun, with no
    table in data_root, so the copy shipped in the package is read; it ends with the NB-201
    board, reproduced beside published."""
    experiments = [
        "regularized-evolution_nb201_cifar10",
        "random-search_nb201_cifar10",
        "reinforce_nb201_cifar10",
    ]
    out = run_cli(tmp_path, "-m", f"experiment={','.join(experiments)}", "++protocol.num_runs=3")
    assert "using the embedded copy" in out.stdout + out.stderr
    summary = out.stdout.split("NAS-Bench-201, reproduced / published (mean ± std, %):")[1]
    for exp in experiments:
        assert f"| {exp} (n=3) |" in summary
    assert "93.70 ± 0.36" in summary  # RS, CIFAR-10 test, as published
    (sweep,) = (tmp_path / "multirun").iterdir()
    names = sorted(p.parent.name for p in sweep.glob("*/record.json"))
    assert names == sorted(f"{e}__seed0_{i}" for i, e in enumerate(experiments))
    assert not (tmp_path / "results").exists()


def test_debug_fdr_runs_a_lightning_experiment_quickly(tmp_path):
    out = run_cli(
        tmp_path, "experiment=darts-2nd_darts-space_digits_reduced", "debug=fdr", "torch_threads=1"
    )
    (path,) = list((tmp_path / "outputs" / "debug").rglob("record.json"))
    rec = json.loads(path.read_text())
    assert rec["truncated_by"] == ["trainer.fast_dev_run"]
    assert "TRUNCATED by trainer.fast_dev_run" in out.stdout
    assert not (tmp_path / "results").exists() and not list(path.parent.glob("wandb"))


def test_default_job_search_retrain_evaluate(tmp_path):
    out = run_cli(
        tmp_path,
        "experiment=random-search_nb201-space_digits_reduced",
        "search.num_candidates=2",
        "search.epochs=1",
        "retrain.epochs=2",
        "logger=none",
        "torch_threads=1",
    )
    run_dir, rec = only_record(tmp_path)
    assert rec["scale"] == "reduced" and rec["data_variant"] == "sklearn-digits"
    selected = json.loads((run_dir / "selected_arch.json").read_text())["arch"]
    assert rec["protocol"]["selected_arch"] == selected
    best = max(rec["diagnostics"]["candidates"], key=lambda c: c["val_acc"])
    assert best["arch"] == selected  # chosen on validation, handed over as a file
    assert 10.0 < rec["metrics"]["test_acc"][0] <= 100.0
    assert "| test_acc |" in out.stdout
