"""Many runs at once (slow tier): eight quick experiments started together in one folder, all
writing canonical records into one results directory, then eight leaderboard regenerations
started together. No record is lost or corrupt, no two runs share a run folder, and the
leaderboard every regeneration leaves holds all eight."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNS = [("random-search_nb201_cifar10", s) for s in range(4)]
RUNS += [("regularized-evolution_nb201_cifar10", s) for s in range(4)]


def _start(args, cwd):
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "HOME": str(cwd),
        "PYTHONPATH": str(REPO),
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.Popen(
        [sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _wait(procs):
    for p in procs:
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0, err.decode()[-2000:]


@pytest.mark.slow
def test_eight_runs_at_once(tmp_path):
    results = tmp_path / "results"
    _wait(
        [
            _start(
                [
                    "-m",
                    "common.cli",
                    f"experiment={exp}",
                    f"seed={seed}",
                    "protocol.num_runs=3",
                    "record.canonical=true",
                    f"record.results_dir={results}",
                    "logger=none",
                    "torch_threads=1",
                ],
                tmp_path,
            )
            for exp, seed in RUNS
        ]
    )
    records = sorted(results.rglob("*.json"))
    assert len(records) == 8
    for path in records:  # every record complete and parseable
        rec = json.loads(path.read_text())
        assert (rec["experiment"], rec["seed"]) in RUNS
    assert len(list((tmp_path / "outputs").rglob("record.json"))) == 8  # eight run folders
    assert not list(results.rglob("*.tmp"))

    board = tmp_path / "LEADERBOARD.md"
    lb = ["-m", "common.results.leaderboard", f"--results={results}", f"--out={board}"]
    _wait([_start([*lb, "--no-readmes"], tmp_path) for _ in range(8)])
    text = board.read_text()
    for exp, _ in RUNS:
        assert f"| {exp} (n=12) |" in text  # 4 seeds x 3 runs pooled on the NB-201 board
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".LEADERBOARD")]
