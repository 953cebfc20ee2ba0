"""The throughput benchmark on a tiny setting: every variant of a fixed network and of
single-path supernets runs, the reference's ratios are 1, channels_last computes the same
losses as the default layout, bf16 computes close ones, and a step's peak memory is seen."""

import json

import pytest


@pytest.mark.filterwarnings("ignore")
def test_the_benchmark_reports_every_variant_on_a_tiny_setting(script, tmp_path):
    bench = script("benchmark_throughput")
    out = tmp_path / "t.json"
    args = ["--nets", "nb201,spos-macro", "--batch", "2", "--rounds", "1"]
    args += ["--steps", "1", "--paths", "2", "--check-steps", "2", "--json", str(out)]
    results = bench.main([*args, "--variants", "eager,channels_last,bf16"])
    assert json.loads(out.read_text())["results"] == results
    for name in ("nb201", "spos-macro"):
        rows = results[name]
        assert set(rows) == {"eager", "channels_last", "bf16"}
        assert rows["eager"]["speedup"] == 1.0 and rows["eager"]["memory_ratio"] == 1.0
        assert all(r["images_per_s"] > 0 and r["peak_mib"] > 0 for r in rows.values())
        loss = rows["eager"]["loss_after_check_steps"]
        assert abs(rows["channels_last"]["loss_diff_vs_eager"]) < 1e-4 * loss
        assert 0 < abs(rows["bf16"]["loss_diff_vs_eager"]) < 0.05 * loss


def test_unknown_networks_and_variants_are_refused(script):
    bench = script("benchmark_throughput")
    with pytest.raises(SystemExit, match="valid"):
        bench.main(["--variants", "eager,fp8"])
    with pytest.raises(SystemExit, match="unknown network"):
        bench.main(["--nets", "resnet", "--variants", "eager"])
