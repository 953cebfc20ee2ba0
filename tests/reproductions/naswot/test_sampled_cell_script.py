"""scripts/naswot_sampled_cell.py: which runs draw a cell, and the pooled std had they chosen it."""

import numpy as np
import pytest


def test_std_if_drawn_edges_and_expected_variance(script):
    std_if_drawn = script("naswot_sampled_cell").std_if_drawn
    x = np.random.default_rng(1).normal(93.0, 0.8, size=200)
    assert np.allclose(std_if_drawn(x, 89.37, 0.0, draws=5), x.std())
    assert np.allclose(std_if_drawn(x, 89.37, 1.0, draws=5), 0.0)
    # Exact expectation of the population variance when each x_i becomes a with probability q.
    q, a, n = 0.05, 89.37, x.size
    mean_y = (1 - q) * x + q * a
    e_sq = ((1 - q) * x**2 + q * a**2).mean()
    e_mean_sq = (q * (1 - q) * (x - a) ** 2).sum() / n**2 + mean_y.mean() ** 2
    var = std_if_drawn(x, a, q, draws=40_000) ** 2
    assert var.mean() == pytest.approx(e_sq - e_mean_sq, rel=0.01)
    assert var.mean() > 1.1 * x.var()  # a cell 4.5 std below the mean widens the spread
    with pytest.raises(ValueError, match="probability"):
        std_if_drawn(x, a, 1.5)


def test_what_if_on_the_committed_n100_records(script, shared_file, capsys):
    args = ["--data", str(shared_file("cifar10_yoongikim_jpegq75_small.npz")), "--samples", "100"]
    args += ["--runs-per-seed", "20", "--seeds", "25", "--benchmark"]
    args += [str(shared_file("nb201.csv.gz")), "--what-if"]
    mod = script("naswot_sampled_cell")
    assert mod.main([*args, "naswot_nb201_cifar10-jpeg_n100_reduced"]) == 0
    out = capsys.readouterr().out
    # No N=100 run sampled the all-1x1 cell; the pooled CIFAR-10 test std is the README's 0.86.
    assert "in the sample of 0 of 500 runs (uniform sampling expects 3.2)" in out
    row = next(line for line in out.splitlines() if line.startswith("cifar10_test,"))
    table_value, now, mean_std = (float(v) for v in row.replace("[", ",").split(",")[1:4])
    assert table_value == pytest.approx(89.37) and now == pytest.approx(0.857, abs=1e-3)
    assert now < mean_std < 0.95
    assert mod.main([*args, "no-such-experiment"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'no-such-experiment'" in err and len(err.splitlines()) == 1


def test_bad_cell_or_missing_table_is_one_line(script, shared_file, tmp_path, capsys):
    mod = script("naswot_sampled_cell")
    data = ["--data", str(shared_file("cifar10_yoongikim_jpegq75_small.npz")), "--seeds", "1"]
    assert mod.main([*data, "--cell", "|conv_9x9~0|"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    missing = str(tmp_path / "nb201.csv.gz")
    what_if = ["--what-if", "naswot_nb201_cifar10-jpeg_n100_reduced", "--benchmark", missing]
    assert mod.main([*data, *what_if]) == 2
    err = capsys.readouterr().err.strip()
    assert missing in err and len(err.splitlines()) == 1
