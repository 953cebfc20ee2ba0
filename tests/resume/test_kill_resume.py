"""Kill a run with SIGKILL and resume it: it must end exactly as the same run left alone.

Slow tier (each test runs the CLI three times: about a minute on one CPU thread).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.resume.helpers import kill_when, lines_at_least, run_ok

pytestmark = pytest.mark.slow

# The reduced DARTS experiment, smaller still: 2 searches of 3 epochs, selection by 1-epoch
# trainings, a 2-epoch retrain (fits 1..5: search0, brief0, search1, brief1, retrain).
DARTS = [
    "experiment=darts-1st_darts-space_digits_reduced",
    "search.epochs=3",
    "search.network.C=4",
    "search.network.layers=3",
    "data.max_train_samples=400",
    "selection.epochs=1",
    "retrain.epochs=2",
    "retrain.network.C=8",
    "retrain.network.layers=3",
    "retrain.data.max_train_samples=400",
    "seed=3",
]


def _alphas(run_dir: Path) -> dict[str, torch.Tensor]:
    """The architecture weights each search ended with (fits 1 and 3)."""
    out = {}
    for fit in ("fit1", "fit3"):
        state = torch.load(run_dir / "checkpoints" / fit / "last.ckpt", weights_only=True)
        out.update({f"{fit}/{k}": v for k, v in state["state_dict"].items() if "alpha" in k})
    assert out, "no architecture weights in the search checkpoints"
    return out


def _epochs_done(run_dir: Path, fit: str) -> int:
    """Epochs a fit's checkpoint holds, and none if the fit already finished."""
    if (run_dir / "checkpoints" / fit / "done.pt").exists():
        return 10**6
    state = torch.load(run_dir / "checkpoints" / fit / "last.ckpt", weights_only=True)
    return state["loops"]["fit_loop"]["epoch_progress"]["current"]["processed"]


def _weights(run_dir: Path, fit: str) -> dict[str, torch.Tensor]:
    path = run_dir / "checkpoints" / fit / "last.ckpt"
    return torch.load(path, weights_only=True)["state_dict"]


def test_darts_search_and_retrain_resumes_identically(tmp_path):
    ref = run_ok(tmp_path, *DARTS, "hydra.run.dir=ref")
    killed = Path("killed")
    # kill 1: at the first checkpoint of the first search (epoch 1 of 3)
    kill_when(tmp_path, killed, "checkpoints/fit1/last.ckpt", *DARTS, f"hydra.run.dir={killed}")
    assert _epochs_done(tmp_path / killed, "fit1") < 3  # killed inside the fit
    # kill 2: inside the second search, after search 0 and its brief training have finished
    kill_when(tmp_path, killed, "checkpoints/fit3/last.ckpt", *DARTS, f"resume={killed}")
    assert (tmp_path / killed / "checkpoints" / "fit2" / "done.pt").is_file()
    assert _epochs_done(tmp_path / killed, "fit3") < 3
    got = run_ok(tmp_path, *DARTS, f"resume={killed}")

    assert got["metrics"] == ref["metrics"]
    assert got["protocol"]["candidates"] == [
        {**c, "file": c["file"].replace("ref", str(killed))} for c in ref["protocol"]["candidates"]
    ]
    genotype = (tmp_path / killed / "genotype.json").read_text()
    assert genotype == (tmp_path / "ref" / "genotype.json").read_text()
    ref_alphas, got_alphas = _alphas(tmp_path / "ref"), _alphas(tmp_path / killed)
    for key, value in ref_alphas.items():
        torch.testing.assert_close(got_alphas[key], value, rtol=1e-6, atol=1e-7)
    ref_w, got_w = _weights(tmp_path / "ref", "fit5"), _weights(tmp_path / killed, "fit5")
    for key, value in ref_w.items():
        torch.testing.assert_close(got_w[key], value, rtol=1e-6, atol=1e-7)
    # the resumed run kept its original config and recorded the resumes beside it
    assert len(list((tmp_path / killed / ".hydra").glob("resumed_*"))) >= 1
    config = (tmp_path / killed / ".hydra" / "config.yaml").read_text()
    assert "resume: null" in config
    assert json.loads((tmp_path / killed / "record.json").read_text())["seed"] == 3


def test_repeated_nb201_search_resumes_identically(tmp_path, nb201_table):
    """Random search under the NB-201 protocol, 40 runs: killed after 5 runs, resumed, it
    records what 40 runs left alone record (the runs are seeded by their run seed alone)."""
    args = [
        "experiment=random-search_nb201_cifar10",
        f"data_root={nb201_table.parent}",
        "protocol.num_runs=40",
        "seed=1",
    ]
    ref = run_ok(tmp_path, *args, "hydra.run.dir=ref")
    killed = Path("killed")
    kill_when(tmp_path, killed, lines_at_least("runs.jsonl", 5), *args, f"hydra.run.dir={killed}")
    done = len((tmp_path / killed / "runs.jsonl").read_text().splitlines())
    assert 5 <= done < 40
    got = run_ok(tmp_path, *args, f"resume={killed}")
    assert got["metrics"] == ref["metrics"]
    assert got["diagnostics"] == ref["diagnostics"]
    assert got["protocol"] == ref["protocol"]
    for key in ("queries_total", "simulated_search_s_per_run"):
        assert got["cost"][key] == ref["cost"][key]
    csv_ref = (tmp_path / "ref" / "runs.csv").read_text().splitlines()
    csv_got = (tmp_path / killed / "runs.csv").read_text().splitlines()
    assert len(csv_got) == len(csv_ref) == 41
