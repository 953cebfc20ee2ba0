"""The claim the DARTS README's numerics rest on: on this torch's CPU kernels, a float32
BatchNorm in channels_last is several times further from float64 than in NCHW, and routing
each BatchNorm through NCHW brings the supernet pass back (the detour is undone afterwards).
If a torch upgrade fixes the kernel, the first test fails: then the README's numerics
paragraph needs rereading."""

import pytest
import torch
from torch import nn


@pytest.fixture(scope="module")
def bench(script):
    return script("bn_layout_accuracy")


def test_channels_last_batchnorm_rounds_worse_than_nchw(bench):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread sums all N*H*W positions in one run
    try:
        errs = bench.one_batchnorm(batch=32)
    finally:
        torch.set_num_threads(threads)
    for k in range(4):  # y, dx, dweight, dbias
        assert errs["channels_last"][k] > 3 * errs["nchw"][k], (k, errs)
        assert errs["nchw"][k] < 1e-6


def test_the_supernet_comparison_runs_and_restores_batchnorm(bench):
    native = nn.BatchNorm2d.forward
    out = bench.supernet_pass(batch=2, C=4, layers=3)
    assert nn.BatchNorm2d.forward is native
    assert set(out) == {
        "nchw",
        "channels_last",
        "channels_last, BatchNorm in NCHW",
        "channels_last, SummedBatchNorm2d",
    }
    for alpha_err, weight_err, cpu in out.values():
        assert 0 < alpha_err < 1e-2 and 0 < weight_err < 1e-2 and cpu > 0
