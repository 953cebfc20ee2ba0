"""Our DARTS search step against the authors' step (re-stated in scripts/darts_reference.py),
on a tiny network (3 cells, C=4, batch 4, 8x8) from the same state and batches: first and second order, in the default
layout and in channels_last, the same alphas and weights after two steps. The second-order
result differs from the first-order one by far more than the tolerance, so a wrong unrolled
step (or a first-order step in its place) fails."""

from __future__ import annotations

import copy

import pytest
import torch

from common.spaces.darts.model import count_params_m
from common.speed import Speed
from common.supernets.darts import DartsSupernet


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def bench(script):
    return script("benchmark_darts_vs_official")


def tiny(bench):
    torch.manual_seed(0)
    ref = bench.ref_code.Search(C=4, num_classes=10, layers=3)
    g = torch.Generator().manual_seed(1)
    batches = [
        tuple(
            (torch.randn(4, 3, 8, 8, generator=g), torch.randint(0, 10, (4,), generator=g))
            for _ in range(2)
        )
        for _ in range(2)
    ]
    return ref, batches


def run(bench, order: str, memory_format: str):
    base, batches = tiny(bench)  # in the default dtype
    ref = bench.Reference(copy.deepcopy(base))
    net = DartsSupernet(C=4, num_classes=10, layers=3)
    bench.copy_state(base.model, net)
    ours = bench.Ours(net, Speed(memory_format=memory_format), "cpu")
    for train, val in batches:
        ref.step(train, val, order)
        ours.step(train, val, order)
    return ref, ours


@pytest.mark.parametrize("memory_format", ["contiguous", "channels_last"])
@pytest.mark.parametrize("order", ["first", "second"])
def test_our_step_is_the_authors_step(bench, order, memory_format):
    ref, ours = run(bench, order, memory_format)
    for a, b in zip(ref.alphas(), ours.alphas(), strict=True):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=0)
    for a, b in zip(ref.weights(), ours.weights(), strict=True):
        torch.testing.assert_close(b.detach(), a.detach(), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(
        torch.cat([g.flatten() for g in ours.arch_grads()]),
        torch.cat([g.flatten() for g in ref.arch_grads()]),
        atol=1e-6,
        rtol=1e-3,
    )


@pytest.fixture
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("memory_format", ["contiguous", "channels_last"])
@pytest.mark.parametrize("order", ["first", "second"])
def test_in_float64_the_steps_agree_to_rounding(bench, float64, order, memory_format):
    """In float32 the second-order step's finite difference turns rounding into visible
    differences; in float64 the same step must agree to ~1e-12 (a different step cannot)."""
    ref, ours = run(bench, order, memory_format)
    assert ours.alphas()[0].dtype == torch.float64
    for a, b in zip(ref.alphas(), ours.alphas(), strict=True):
        torch.testing.assert_close(b, a, atol=1e-12, rtol=0)
    for a, b in zip(ref.weights(), ours.weights(), strict=True):
        torch.testing.assert_close(b.detach(), a.detach(), atol=1e-12, rtol=0)
    grads = [torch.cat([g.flatten() for g in x.arch_grads()]) for x in (ref, ours)]
    assert float((grads[0] - grads[1]).abs().max() / grads[0].abs().max()) < 1e-10


def test_the_float64_judge_is_the_reference_in_float64(bench):
    base, batches = tiny(bench)
    exact = bench.Reference(copy.deepcopy(base), torch.float64)
    single = bench.Reference(copy.deepcopy(base))
    for train, val in batches:
        exact.step(train, val, "second")
        single.step(train, val, "second")
    assert all(a.dtype == torch.float64 for a in exact.alphas() + exact.weights())
    assert torch.get_default_dtype() == torch.float32
    diff = bench.compare("second", exact, single)
    assert 0 < diff["max_alpha_diff"] < 1e-5 and diff["same_genotype"]


def test_the_comparison_tells_second_from_first_order(bench):
    first, _ = run(bench, "first", "contiguous")
    second, _ = run(bench, "second", "contiguous")
    diff = max(
        float((a - b).abs().max()) for a, b in zip(first.alphas(), second.alphas(), strict=True)
    )
    assert diff > 1e-4  # 10x the tolerance above


def test_the_reference_network_has_the_authors_size(bench):
    torch.manual_seed(0)
    ref = bench.ref_code.Network(16, 10, 8, torch.nn.CrossEntropyLoss())
    assert count_params_m(ref) == pytest.approx(1.930618, abs=1e-6)  # train_search.py's log
    ours = DartsSupernet()
    bench.copy_state(ref, ours)  # every tensor has its counterpart, in the same order
