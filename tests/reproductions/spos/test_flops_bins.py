"""SPOS's FLOPs-bin sampling (official src/Supernet/train.py): a bin drawn uniformly, a path
drawn uniformly until its FLOPs fall in that bin -- never a path outside it unless the
timeout's official fallback is taken, which is counted."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from common.spaces.nb201.arch import Nb201Arch
from common.supernets.mixers import SinglePathMixer
from common.supernets.nb201 import Nb201Supernet
from common.training.single_path import PathSpace, ops_of
from reproductions.spos.sampling import FlopsBinSampler
from tests.common.training.chain import ChainSupernet, chain_space


def count_c(path) -> float:
    return float(sum(op == "c" for op in path))


def test_official_bins_are_the_range_in_steps():
    space = chain_space(ChainSupernet(), cost=count_c)
    sampler = FlopsBinSampler(space, bins=[290, 360, 10])  # train.py flops_l, flops_r, flops_step
    assert sampler.bins == [(b, b + 10) for b in range(290, 360, 10)]


def test_never_outside_the_drawn_bin():
    space = chain_space(ChainSupernet(layers=8), cost=count_c)  # cost 0..8
    sampler = FlopsBinSampler(space, bins=[0, 8, 2], on_timeout="error")
    rng, bins = random.Random(0), Counter()
    for _ in range(2000):
        (path,) = sampler.sample(rng)
        low, high = sampler.last_bin
        assert low <= count_c(path) <= high  # both ends inclusive, as train.py
        bins[(low, high)] += 1
    assert sampler.timeouts == 0
    assert set(bins) == {(0, 2), (2, 4), (4, 6), (6, 8)}
    assert min(bins.values()) > 400  # bins equally likely (500 expected each)


def test_nb201_table_flops(nb201_bench):
    net = Nb201Supernet(10, mixer=SinglePathMixer, channels=4, cells_per_stage=1)
    flops = lambda arch: nb201_bench.value(arch, "flops_m_cifar10_naslib")  # noqa: E731
    space = PathSpace.of(net.mixer, Nb201Arch, ops_of, flops)
    # the table's FLOPs come in clusters (none in 100-110, 130-150, ...): wide bins
    sampler = FlopsBinSampler(space, bins=[10, 130, 40], on_timeout="error")
    rng = random.Random(1)
    for _ in range(500):
        (path,) = sampler.sample(rng)
        low, high = sampler.last_bin
        assert low <= flops(Nb201Arch(path)) <= high


def test_timeout_falls_back_as_the_official_code_or_refuses():
    space = chain_space(ChainSupernet(), cost=count_c)  # cost 0..3: the bin [10, 11] is empty
    official = FlopsBinSampler(space, bins=[10, 11, 1], timeout=20)
    (path,) = official.sample(random.Random(0))
    assert len(path) == 3 and official.timeouts == 1 and official.last_bin is None
    strict = FlopsBinSampler(space, bins=[10, 11, 1], timeout=20, on_timeout="error")
    with pytest.raises(RuntimeError, match=r"no path with cost in \[10, 11\]"):
        strict.sample(random.Random(0))


def test_without_bins_it_is_uniform_and_needs_no_cost():
    space = chain_space(ChainSupernet())
    sampler = FlopsBinSampler(space)
    counts = Counter(p[0] for _ in range(3000) for p in sampler.sample(random.Random(_)))
    assert all(abs(c / 3000 - 1 / 3) < 0.04 for c in counts.values())
    with pytest.raises(ValueError, match="need a cost"):
        FlopsBinSampler(space, bins=[0, 3, 1])
