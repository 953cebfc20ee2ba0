"""Bad input: one line on stderr naming what was wrong (and the valid choices), exit 2, and
no record written. Also the help text lists the experiments."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def nasrepro(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "common.cli", *args, "logger=none"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(cwd)},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["experiment=rea_nb201"], "unknown experiment 'rea_nb201'; valid: "),
        ([], "no experiment given"),
        (
            ["experiment=regularized-evolution_nb201_cifar10", "seed=abc"],
            "seed takes an int (default 0), got str 'abc'",
        ),
        (
            ["experiment=regularized-evolution_nb201_cifar10", "protocol.num_runs=1.5"],
            "protocol.num_runs takes an int",
        ),
        (
            ["experiment=regularized-evolution_nb201_cifar10", "benchmark=nb101"],
            "unknown benchmark 'nb101'; valid: nb201",
        ),
        (
            ["experiment=random-search_nb201-space_digits_reduced", "data=mnist"],
            "unknown data 'mnist'; valid: cifar10,",
        ),
        (
            ["experiment=regularized-evolution_nb201_cifar10", "sed=3"],
            "has no key 'sed' (no 'sed' at the top level, which holds: ",
        ),
        (
            ["experiment=random-search_nb201_cifar10", "trainer.max_epochs=-1"],
            "no 'max_epochs' at 'trainer', which holds: accelerator,",
        ),
        (
            ["experiment=random-search_nb201_cifar10", "data.batch_size=3"],
            "has no key 'data.batch_size' (no 'data' at the top level",
        ),
        (
            ["experiment=random-search_nb201_cifar10", "protocol.num_runs=0"],
            "protocol.num_runs=0: at least 1",
        ),
        (
            ["experiment=regularized-evolution_nb201_cifar10", "protocol.num_runs=-5"],
            "protocol.num_runs=-5: a count, never negative",
        ),
        (
            ["experiment=regularized-evolution_nb201_cifar10", "seed=-1"],
            "seed=-1: a seed is an integer in [0, 2^32)",
        ),
        (
            ["experiment=darts-2nd_darts-space_cifar10_retrain"],
            "needs genotype=<value>: the path of a genotype.json",
        ),
        (  # a stage's input file, mistyped: refused before a run folder is made
            ["experiment=darts-2nd_darts-space_cifar10_retrain", "genotype=out/genotype.jsn"],
            "genotype=out/genotype.jsn: no such file; the path of a genotype.json",
        ),
        (
            ["experiment=enas_macro-space_cifar10-jpeg_final_reduced", "arc=arc.jsn"],
            "arc=arc.jsn: no such file (or random); the path of an arc.json",
        ),
        (  # its default record is relative to the repository: elsewhere, no such file
            ["experiment=metaqnn_metaqnn-space_digits_final_reduced"],
            "search_record=results/metaqnn/metaqnn_metaqnn-space_digits_reduced__seed0.json:"
            " no such file",
        ),
        (
            ["experiment=random-search_nb201_cifar10", "hydra.run.dir=/proc/nasrepro/x"],
            "cannot write the output directory '/proc/nasrepro/x'",
        ),
        (
            [
                "experiment=random-search_nb201_cifar10",
                "record.canonical=true",
                "record.results_dir=/proc/nasrepro",
            ],
            "(or record.results_dir=<dir>)",
        ),
        (
            ["experiment=regularized-evolution_nb201_cifar10", "seed=[1"],
            "malformed override 'seed=[1'",
        ),
        (
            [
                "experiment=darts-1st_darts-space_digits_reduced",
                "record.canonical=true",
                "+trainer.max_steps=3",
            ],
            "record.canonical=true needs the experiment's full schedule, but trainer.max_steps",
        ),
        (
            [
                "experiment=darts-2nd_darts-space_digits_reduced",
                "debug=fdr",
                "record.canonical=true",
            ],
            "but trainer.fast_dev_run cuts it short",
        ),
        (
            ["-m", "experiment=random-search_nb201_cifar10,rea", "protocol.num_runs=3"],
            "unknown experiment 'rea'; valid: ",
        ),
        (
            [
                "-m",
                "experiment=random-search_nb201_cifar10,reinforce_nb201_cifar10",
                "protocol.num_runs=3",
            ],
            "set keys that only the experiments define with ++ (e.g. ++protocol.num_runs=50)",
        ),
        (
            ["experiment=darts-2nd_darts-space_digits_reduced", "debug=quick"],
            "unknown debug 'quick'; valid: fdr, limit",
        ),
    ],
)
def test_bad_overrides_fail_in_one_line(tmp_path, args, message):
    out = nasrepro(*args, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert message in lines[0]
    assert not (tmp_path / "outputs").exists() and not (tmp_path / "results").exists()


def test_missing_benchmark_file_fails_in_one_line_without_a_record(tmp_path):
    out = nasrepro(
        "experiment=regularized-evolution_nb201_cifar10",
        f"data_root={tmp_path}/nowhere",
        "benchmark.fallback_to_embedded=false",  # else the embedded copy is read
        cwd=tmp_path,
    )
    assert out.returncode == 2
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: NAS-Bench-201 table not found at") and "nb201_convert.py" in last
    assert not list(tmp_path.rglob("record.json"))


def test_help_lists_experiments(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "common.cli", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)},
    )
    assert out.returncode == 0
    assert "regularized-evolution_nb201_cifar10" in out.stdout
    assert "random-search_nb201-space_digits_reduced" in out.stdout
