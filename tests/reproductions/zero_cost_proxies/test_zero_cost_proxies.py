"""Zero-cost-proxy reproduction: the rank statistics, the architecture sample, the
cross-check against a reference table, and one tiny run of the stage function."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from common.cli import CONF_DIR
from common.results.logging import RunLogger
from common.spaces.nb201.arch import NUM_ARCHS
from reproductions.zero_cost_proxies import task
from reproductions.zero_cost_proxies.analysis import (
    reference_agreement,
    spearman,
    spearman_with_ci,
)
from tests.reproductions.helpers import random_image_pool


def test_spearman_and_bootstrap_interval():
    x = np.arange(50.0)
    res = spearman_with_ci(x, x**3, num_boot=200)
    assert res["rho"] == pytest.approx(1.0) and res["ci_low"] == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    y = np.random.default_rng(0).normal(size=50)
    noisy = spearman_with_ci(x, x + 20 * y, num_boot=500, seed=1)
    assert noisy["ci_low"] < noisy["rho"] < noisy["ci_high"]
    assert spearman([1.0, np.nan, 3.0, 4.0], [1.0, 2.0, 3.0, 5.0]) == pytest.approx(1.0)


def test_arch_sample_is_seeded_and_distinct():
    a, b = task.sample_archs(100, seed=3), task.sample_archs(100, seed=3)
    assert a == b and len(set(a)) == 100
    assert task.sample_archs(100, seed=4) != a
    assert len(task.sample_archs(None, seed=0)) == NUM_ARCHS


def test_reference_agreement_matches_by_arch(tmp_path: Path):
    archs = [str(a) for a in task.sample_archs(6, seed=0)]
    ref = pd.DataFrame(
        {
            "dataset": "cifar10",
            "arch": archs[:5],
            "synflow": [1, 2, 3, 4, 5],
            "jacov": [5, 4, 3, 2, 1],
        }
    )
    ref.to_csv(tmp_path / "ref.csv.gz", index=False)
    ours = pd.DataFrame({"arch": archs, "synflow": [10, 20, 30, 40, 50, 0], "jacob_cov": range(6)})
    got = reference_agreement(ours, tmp_path / "ref.csv.gz")
    assert got["synflow"]["rho"] == pytest.approx(1.0) and got["synflow"]["n"] == 5
    assert got["jacob_cov"]["rho"] == pytest.approx(-1.0)


def test_stage_function_on_tiny_run(tmp_path: Path, shared_file, monkeypatch):
    pool = random_image_pool(40, 8)
    monkeypatch.setattr(task, "training_pool", lambda data: pool)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                "experiment=zero-cost-proxies_nb201_cifar10-jpeg_n20_reduced",
                f"data_root={shared_file('nb201.csv.gz').parent}",
                "logger=none",
                "sample.num_archs=3",
                "proxies.batch_size=4",
                "correlation.num_boot=20",
                "proxies.channels=4",
                "proxies.cells_per_stage=1",
            ],
        )
    result = task.run(cfg, RunLogger(cfg, tmp_path, []))
    assert set(result.metrics) == {f"spearman_abs_{p}" for p in cfg.proxies.names}
    assert all(0 <= v[0] <= 1 for v in result.metrics.values() if not np.isnan(v[0]))
    assert result.protocol["num_archs"] == 3
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert len(scores) == 3 and {"cifar10_test", "cifar10valid_test"} <= set(scores.columns)
    assert "reference_agreement" in result.diagnostics
