"""Multiruns through hydra-submitit-launcher's local executor (``hydra/launcher=submitit_local``),
the path a SLURM sweep (``hydra/launcher=submitit_slurm``) takes with another executor: each job
runs in its own submitit process, writes its own run folder and record, and the SweepSummary
callback still pools the sweep's records in the ``nasrepro`` process. A job that meets bad
input reports it in one line at the end of the sweep and the sweep exits 2.

Each sweep starts two Python processes (about 10 s each on a busy CPU)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SWEEP = [
    "-m",
    "experiment=random-search_nb201_cifar10",
    "seed=0,1",
    "hydra/launcher=submitit_local",
    "protocol.num_runs=2",
    "logger=none",
    "torch_threads=1",
    "hydra.sweep.dir=sweep",
]


def _sweep(tmp_path: Path, data_root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "WANDB_MODE": "disabled",
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "common.cli", *SWEEP, f"data_root={data_root}", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_seed_sweep_runs_each_job_through_submitit(tmp_path, nb201_table):
    out = _sweep(tmp_path, nb201_table.parent)
    assert out.returncode == 0, out.stderr[-3000:]
    sweep = tmp_path / "sweep"
    records = {}
    for path in sweep.glob("*/record.json"):
        rec = json.loads(path.read_text())
        records[rec["seed"]] = (path.parent.name, rec)
    assert sorted(records) == [0, 1]
    for seed, (folder, rec) in records.items():
        assert folder == f"random-search_nb201_cifar10__seed{seed}_{seed}"
        assert rec["protocol"]["num_runs"] == 2
        assert (sweep / folder / "runs.jsonl").is_file()
    assert records[0][1]["metrics"] != records[1][1]["metrics"]  # two seeds, two searches
    # submitit ran the two jobs, in two processes of their own
    logs = sorted(sweep.glob(".submitit/*/*_0_log.out"))
    assert len(logs) == 2
    for log in logs:
        assert "Job completed successfully" in log.read_text()
        assert "Leaderboard rows of random-search_nb201_cifar10" in log.read_text()
    # the SweepSummary callback ran in this process, over both jobs' records
    assert "random-search_nb201_cifar10, pooled over seeds 0, 1:" in out.stdout
    assert "random-search_nb201_cifar10 (n=4)" in out.stdout


@pytest.mark.slow
def test_bad_input_in_a_submitit_job_is_one_line_and_exit_2(tmp_path, nb201_table):
    """A benchmark table that fails its checksum is found only when the job runs."""
    out = _sweep(tmp_path, nb201_table.parent, "benchmark.sha256=deadbeef")
    assert out.returncode == 2, out.stderr[-3000:]
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert [e.split(":")[1].strip() for e in errors] == [
        "random-search_nb201_cifar10__seed0_0",
        "random-search_nb201_cifar10__seed1_1",
    ]
    assert all("NAS-Bench-201 table" in e for e in errors)
    assert "Traceback" not in out.stderr
    assert not list((tmp_path / "sweep").rglob("record.json"))


@pytest.mark.parametrize(
    ("override", "shown"),
    [
        ("hydra/launcher=submitit_lokal", "valid: basic, submitit_local, submitit_slurm"),
        ("hydra.launcher.timeout_min=abc", "could not be converted to Integer"),
        ("hydra.launcher.partiton=gpu", "Key 'partiton' not in 'SlurmQueueConf'"),
    ],
)
def test_a_bad_launcher_override_is_one_line(override, shown):
    from common.cli import validate_argv
    from common.errors import NasReproError

    argv = ["-m", "experiment=random-search_nb201_cifar10", "seed=0,1"]
    launcher = [] if override.startswith("hydra/") else ["hydra/launcher=submitit_slurm"]
    validate_argv([*argv, "hydra/launcher=submitit_slurm", "hydra.launcher.partition=gpu"])
    with pytest.raises(NasReproError) as err:
        validate_argv([*argv, *launcher, override])
    assert shown in str(err.value) and "\n" not in str(err.value)
