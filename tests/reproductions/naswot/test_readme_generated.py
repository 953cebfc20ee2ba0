"""The NASWOT README's tables and prose numbers are generated from the run records: the
committed README is current, a changed record makes it stale, and the generator writes what a
hand computation gives on a small set of made-up records."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from common.results import leaderboard, published
from common.results.leaderboard import aggregate
from common.results.run_notes import RunNotes
from reproductions.naswot.report.cell import mix_with_cell
from reproductions.naswot.report.readme import Ctx, cost_by_host, table_of_runs

REPO = Path(__file__).resolve().parents[3]
README = REPO / "reproductions" / "naswot" / "README.md"
N100, N1000 = "naswot_nb201_cifar10-jpeg_n100_reduced", "naswot_nb201_cifar10-jpeg_n1000_reduced"
SLOW, EPYC = "cpu: x86_64, 1 threads", "cpu: AMD EPYC (x86_64), 1 threads (2 CPUs)"
XEON = "cpu: Intel(R) Xeon(R) Processor (x86_64), 1 threads (2 CPUs)"
METRICS = ("cifar10_valid", "cifar10_test", "cifar100_test", "imagenet16_test")


def test_committed_readme_is_current():
    text = leaderboard.readme_updates(REPO / "results")[README]
    assert README.read_text() == text, "stale: run nasrepro-leaderboard"
    for name in ("table-of-runs", "cost-by-host", "results-n1000", "results-sampled-cell"):
        assert f"<!-- generated:{name} -->" in text


def test_a_changed_record_makes_the_readme_stale(tmp_path):
    shutil.copytree(REPO / "results" / "naswot", tmp_path / "naswot")
    path = tmp_path / "naswot" / f"{N1000}__seed100.json"
    rec = json.loads(path.read_text())
    rec["cost"]["wall_clock_s"] += 10.0  # 252.6 s -> 262.6 s
    path.write_text(json.dumps(rec))
    text = leaderboard.readme_updates(tmp_path)[README]
    assert text != README.read_text()
    assert "int8 K product, another N=1000 seed on the other core, 263 s |" in text


def _rec(exp, seed, wall, device=SLOW, commit="f32aaaaa", values=(93.0,), nhwc=True):
    runs = len(values)
    return {
        "experiment": exp,
        "paper": "naswot",
        "seed": seed,
        "device": device,
        "git_commit": commit,
        "created": f"2026-01-01T00:{seed:02d}:00",
        "metrics": {m: list(values) for m in METRICS},
        "protocol": {
            "num_samples": 100 if exp == N100 else 1000,
            "settings": {"channels_last_on_cpu": nhwc},
        },
        "diagnostics": {},
        "cost": {"wall_clock_s": wall, "search_s_per_run": {"mean": wall / runs}},
    }


NOTES = {
    "kernel_product": {"float32": ["f32aaaaa", "f32bbbbb"], "int8": ["i8aaaaaa"]},
    "hosts": {"Intel Xeon": "AVX-512, AMX"},
    "experiments": {
        N1000: {
            "default": {"shared": "another N=1000 seed on the other core"},
            "runs": {
                0: {"shared": None},
                2: {"also": "for part of it, a benchmark", "load": ["a benchmark"]},
                5: {
                    "also": "for part of it, profiling",
                    "load": ["profiling"],
                    "in_cost_table": False,
                },
                8: {"also": "for part of it, tests", "load": ["tests"], "in_cost_range": False},
                10: {"alone_from_s": 90},
            },
        }
    },
}


def _ctx():
    n1000 = {  # seed: (wall-clock s, device, commit)
        0: (1000.4, SLOW, "f32aaaaa"),  # NCHW: outside the cost table
        1: (800.0, SLOW, "f32aaaaa"),
        2: (900.0, SLOW, "f32aaaaa"),
        3: (400.0, EPYC, "f32bbbbb"),  # the first record naming its host
        4: (300.0, EPYC, "f32bbbbb"),
        5: (250.0, EPYC, "i8aaaaaa"),
        6: (200.0, EPYC, "i8aaaaaa"),
        7: (260.0, EPYC, "i8aaaaaa"),
        8: (500.0, EPYC, "i8aaaaaa"),
        9: (330.0, XEON, "i8aaaaaa"),
        10: (390.0, XEON, "i8aaaaaa"),
        11: (360.0, XEON, "i8aaaaaa"),
    }
    recs = [
        _rec(N1000, s, w, dev, commit, (93.0 + s / 10,), nhwc=s > 0)
        for s, (w, dev, commit) in n1000.items()
    ]
    recs += [
        _rec(N100, 0, 15.4, "cuda: NVIDIA H100 80GB HBM3 x1", None, (92.0, 93.0)),
        _rec(N100, 1, 162.8, values=(92.5, 92.5)),  # 81.4 s per search
        _rec(N100, 2, 206.8, values=(93.0, 94.0)),  # 103.4 s per search
    ]
    return Ctx(aggregate(recs), published.load_published("naswot"), RunNotes(NOTES))


def test_table_of_runs_by_hand():
    lines = table_of_runs(_ctx()).splitlines()
    assert (
        f"| `{N100}`, seed 0 | 100 | 2 | H100, 15 s (7.7 s per search) | 92.50 ± 0.50 |"
        in "\n".join(lines)
    )
    assert (
        f"| `{N1000}`, seed 8 | 1000 | 1 | 1 CPU thread (AMD EPYC host), NHWC, int8 K product,"
        " another N=1000 seed on the other core and, for part of it, tests, 500 s | 93.80 |"
    ) in "\n".join(lines)
    assert f"| `{N1000}`, seed 0 | 1000 | 1 | 1 CPU thread, NCHW, 1,000 s | 93.00 |" in "\n".join(
        lines
    )
    # the 6 N=100 runs 92, 93, 92.5, 92.5, 93, 94: mean 92.83, population std 0.62
    pooled = next(line for line in lines if line.startswith("| the 3 seeds pooled"))
    assert pooled.startswith("| the 3 seeds pooled | 100 | 6 |  | 92.83 ± 0.62 |")
    assert "| the 12 seeds pooled | 1000 | 12 |" in "\n".join(lines)
    assert "| published | 1000 | 500 | 1080Ti, 306.19 s per search | 89.69 ± 0.73 |" in lines[-1]


def test_cost_by_host_by_hand():
    text = cost_by_host(_ctx())
    prose = " ".join(text.split())
    assert "N=100 searches took 81-103 s in NHWC and N=1000 searches 800-900 s" in prose
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert rows == [
        "| 1-2 | not named (records name it from commit f32bbbb on) | float32 | 800-900 | 850 |",
        "| 3-4 | AMD EPYC | float32 | 300-400 | 350 |",
        "| 6-8 | AMD EPYC | int8 | 200-260 | 230 |",  # 8 (500 s) left out of range and mean
        "| 9-11 | Intel Xeon (AVX-512, AMX) | int8 | 330-360 | 345 |",  # 10 had the host alone
    ]
    assert "The ranges of seeds 1-2 and 3-4 include runs that shared it with a benchmark" in prose
    assert "leave out the runs that did (8: tests)" in prose
    assert "seed 10 for the last 300 s of its 390 s" in prose
    assert (
        "Also outside the table: seed 0 (NCHW, 1,000 s) and seed 5 (profiling; 5 was the first with the int8 product)"
        in prose
    )
    # 350 / 850 = 0.41, about half; 345 / 230 = 1.5
    assert "the EPYC host took half the time of the slower one" in prose
    assert "the Intel host about 1.5 times the EPYC host's" in prose


def test_mix_with_the_cell_by_hand():
    # others 92.6 and 93.4: mean 93, std 0.4; cell 89; a mean of 92.6 needs p = 0.4 / 4 = 0.1,
    # and then a variance 0.9 * 0.16 + 0.1 * 0.9 * 16 = 1.584
    p, std = mix_with_cell(np.array([92.6, 93.4]), 89.0, 92.6)
    assert p == pytest.approx(0.1) and std == pytest.approx(np.sqrt(1.584))
