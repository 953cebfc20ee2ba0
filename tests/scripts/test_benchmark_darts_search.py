"""The DARTS search-step breakdown on a tiny supernet (3 cells, C=4, batch 2, 8x8): every
phase of each step is timed and its operators counted, and the counts add up the way the
algorithm says they must (the weight pass is the plain pass, the two finite-difference passes
match, a second-order step is at least five passes)."""

from __future__ import annotations

import pytest
import torch

import common.search.darts_bilevel as bilevel
import reproductions.darts.search_module as search_module
from common.supernets.darts import DartsSupernet

SECOND = ["unrolled_step", "val_at_w_prime", "hvp_w_plus", "hvp_w_minus", "arch_update"]
SECOND += ["weight_pass", "weight_update", "step"]


@pytest.fixture(scope="module")
def tables(script):
    bench = script("benchmark_darts_search")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        net = DartsSupernet(C=4, num_classes=10, layers=3).train()
        x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(1))
        y = torch.tensor([0, 1, 2, 3])
        train, val = (x[:2], y[:2]), (x[2:], y[2:])
        out = {m: bench.breakdown(m, net, train, val, "cpu", 1) for m in bench.MODES}
    finally:
        torch.set_num_threads(n)
    return {m: {r["phase"]: r for r in rows} for m, rows in out.items()}


def test_every_phase_is_timed_and_counted_in_order(tables):
    assert list(tables["plain"]) == ["plain_pass", "step"]
    assert list(tables["first"]) == [
        "first_order_grad",
        "arch_update",
        "weight_pass",
        "weight_update",
        "step",
    ]
    assert list(tables["second"]) == SECOND
    for rows in tables.values():
        assert all(r["wall_s"] > 0 and r["ops"] > 0 for r in rows.values())
        phases = sum(r["ops"] for p, r in rows.items() if p != "step")
        # outside the phases: only reading the losses and the accuracy
        assert phases <= rows["step"]["ops"] <= phases + 20


def test_the_counts_follow_the_algorithm(tables):
    plain = tables["plain"]["plain_pass"]["ops"]
    second = tables["second"]
    assert abs(second["weight_pass"]["ops"] - plain) <= 0.01 * plain
    assert abs(second["unrolled_step"]["ops"] - plain) <= 0.05 * plain  # + one foreach step
    assert second["hvp_w_plus"]["ops"] == pytest.approx(second["hvp_w_minus"]["ops"], rel=0.02)
    assert second["val_at_w_prime"]["ops"] > plain  # the alphas' gradients too
    assert second["step"]["ops"] > 5 * plain
    assert 2 * plain < tables["first"]["step"]["ops"] < 3.5 * plain


def test_the_probe_puts_the_profiler_ranges_back(tables):
    from torch.profiler import record_function

    assert bilevel.record_function is record_function
    assert search_module.record_function is record_function
