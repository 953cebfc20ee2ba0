"""Bootstrap intervals of pooled runs (common/results/intervals.py, scripts/pooled_interval.py)."""

import math

import numpy as np
import pytest

from common.results.intervals import bootstrap_interval, mean_std_intervals


def test_interval_widths_match_normal_theory():
    # For n normal draws the 95% half-widths are 1.96 sigma / sqrt(n) for the mean and
    # about 1.96 sigma / sqrt(2n) for the std; resampling without replacement, or along
    # the wrong axis, would give zero or wildly different widths.
    sigma, n = 2.0, 4000
    v = np.random.default_rng(1).normal(50.0, sigma, n)
    s = mean_std_intervals(v, num_boot=4000)
    mean_half = (s["mean_ci"][1] - s["mean_ci"][0]) / 2
    std_half = (s["std_ci"][1] - s["std_ci"][0]) / 2
    assert mean_half == pytest.approx(1.96 * sigma / math.sqrt(n), rel=0.1)
    assert std_half == pytest.approx(1.96 * sigma / math.sqrt(2 * n), rel=0.15)
    assert s["mean_ci"][0] < s["mean"] < s["mean_ci"][1]
    assert s["std_ci"][0] < s["std"] < s["std_ci"][1]
    assert s["std"] == pytest.approx(v.std())  # population std, as the leaderboard reports


def test_interval_is_seeded_and_rejects_bad_input():
    v = [1.0, 2.0, 4.0, 8.0]
    stat = lambda a: a.mean(axis=1)  # noqa: E731
    assert bootstrap_interval(v, stat, seed=3) == bootstrap_interval(v, stat, seed=3)
    with pytest.raises(ValueError, match="at least 2 finite"):
        bootstrap_interval([1.0], stat)
    with pytest.raises(ValueError, match="at least 2 finite"):
        bootstrap_interval([1.0, math.nan], stat)
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval(v, stat, level=95)


def test_script_on_committed_naswot_records(script, capsys):
    # The 500-run N=10 record: the printed mean is the leaderboard's, and its interval holds it.
    assert script("pooled_interval").main(["naswot_nb201_cifar10-jpeg_n10", "--boot", "500"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| CIFAR-10 test"))
    assert "92.44 ± 1.13 (n=500)" in row and "| 92.39 [" in row and "(n=500)" in row


def test_script_unknown_experiment_lists_choices(script, capsys):
    assert script("pooled_interval").main(["no-such-experiment"]) == 2
    err = capsys.readouterr().err
    assert "'no-such-experiment'" in err and "naswot_nb201_cifar10-jpeg_n10" in err
    assert len(err.strip().splitlines()) == 1
