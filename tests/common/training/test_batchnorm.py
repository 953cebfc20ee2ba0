"""SummedBatchNorm2d: nn.BatchNorm2d's function, buffers and state dict, with float32 sums
as accurate as the NCHW kernel's where the CPU channels_last kernel's are not."""

import copy

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from common.errors import NasReproError
from common.speed import Speed
from common.training.batchnorm import SummedBatchNorm2d, use_summed_batchnorm

CL = torch.channels_last


def data(batch: int, channels: int = 8, size: int = 16, dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, channels, size, size, generator=g, dtype=torch.float64) * 3 + 1
    dy = torch.randn(x.shape, generator=g, dtype=torch.float64)
    return x.to(dtype), dy.to(dtype)


def step(bn: nn.Module, x: torch.Tensor, dy: torch.Tensor):
    """Output, input gradient and parameter gradients of one pass."""
    x = x.clone().requires_grad_(True)
    y = bn(x)
    params = [p for p in (bn.weight, bn.bias) if p is not None]
    grads = torch.autograd.grad(y, [x, *params], dy)
    return [y.detach(), *grads]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"affine": False}, {"momentum": None}, {"track_running_stats": False}],
    ids=["affine", "no-affine", "cumulative", "no-running-stats"],
)
def test_it_is_batchnorm_in_every_setting(kwargs):
    torch.manual_seed(0)
    ref = nn.BatchNorm2d(8, **kwargs)
    if ref.affine:
        with torch.no_grad():
            ref.weight.uniform_(0.5, 1.5)
            ref.bias.normal_()
    ours = copy.deepcopy(ref)
    ref.double()  # the exact computation
    assert use_summed_batchnorm(ours) == 1 and isinstance(ours, SummedBatchNorm2d)
    for k in range(3):  # running statistics accumulate over steps
        x, dy = data(4 + k)
        got = step(ours, x.contiguous(memory_format=CL), dy.contiguous(memory_format=CL))
        exp = step(ref, x.double().contiguous(), dy.double())
        assert got[0].is_contiguous(memory_format=CL) and got[1].is_contiguous(memory_format=CL)
        for a, b in zip(got, exp, strict=True):
            torch.testing.assert_close(a.double(), b, rtol=1e-5, atol=1e-5)
    for (name, a), (_, b) in zip(ours.state_dict().items(), ref.state_dict().items(), strict=True):
        torch.testing.assert_close(a.double(), b.double(), rtol=1e-5, atol=1e-6, msg=name)
    ours.eval()
    ref.eval()
    x, _ = data(2)
    got = ours(x.contiguous(memory_format=CL)).double()
    torch.testing.assert_close(got, ref(x.double()), rtol=1e-5, atol=1e-5)


def test_its_sums_are_as_accurate_as_nchw_where_the_channels_last_kernel_is_not():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the native kernel sums all N*H*W in one run
    try:
        x, dy = data(32, 16, 32, torch.float64)
        w, b = torch.rand(16, dtype=torch.float64) + 0.5, torch.randn(16, dtype=torch.float64)

        def run(cls, layout, dtype):
            bn = cls(16).to(dtype)
            with torch.no_grad():
                bn.weight.copy_(w)
                bn.bias.copy_(b)
            return step(bn, x.to(dtype).contiguous(memory_format=layout),
                        dy.to(dtype).contiguous(memory_format=layout))  # fmt: skip

        exact = run(nn.BatchNorm2d, torch.contiguous_format, torch.float64)

        def err(out):
            return max(float((a.double() - e).abs().max() / e.abs().max())
                       for a, e in zip(out, exact, strict=True))  # fmt: skip

        nchw = err(run(nn.BatchNorm2d, torch.contiguous_format, torch.float32))
        native_cl = err(run(nn.BatchNorm2d, CL, torch.float32))
        summed_cl = err(run(SummedBatchNorm2d, CL, torch.float32))
    finally:
        torch.set_num_threads(threads)
    assert summed_cl < 2 * nchw < native_cl / 3, (summed_cl, nchw, native_cl)


def test_other_inputs_take_the_native_kernel(monkeypatch):
    bn = SummedBatchNorm2d(4)
    called = []
    monkeypatch.setattr(
        "common.training.batchnorm._SummedBatchNorm.apply",
        lambda *a: called.append(1) or (_ for _ in ()).throw(AssertionError("not native")),
    )
    x = torch.randn(2, 4, 5, 5)
    bn(x)  # NCHW
    copy.deepcopy(bn).double()(x.double().contiguous(memory_format=CL))  # float64
    compiling = torch.compiler.is_compiling
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    bn(x.contiguous(memory_format=CL))  # traced by torch.compile
    monkeypatch.setattr(torch.compiler, "is_compiling", compiling)
    bn.eval()
    bn(x.contiguous(memory_format=CL))  # running statistics
    assert not called


def test_double_backward_is_refused_not_wrong():
    bn = SummedBatchNorm2d(3)
    x = torch.randn(2, 3, 4, 4).contiguous(memory_format=CL).requires_grad_(True)
    (g,) = torch.autograd.grad(bn(x).square().sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable|differentiable"):
        g.sum().backward()


def test_channels_last_runs_use_it_and_keep_the_state_dict_names():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    keys = list(net.state_dict())
    Speed(memory_format="channels_last").module(net)
    assert type(net[1]) is SummedBatchNorm2d and list(net.state_dict()) == keys
    plain = nn.Sequential(nn.BatchNorm2d(4))
    Speed().module(plain)
    assert type(plain[0]) is nn.BatchNorm2d
    y = net(torch.randn(2, 3, 8, 8).contiguous(memory_format=CL))
    assert F.relu(y).is_contiguous(memory_format=CL)


def test_native_batchnorm_is_an_option_that_records_and_labels_itself():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    native = Speed(memory_format="channels_last", batchnorm="native")
    native.module(net)
    assert type(net[1]) is nn.BatchNorm2d
    assert net[0].weight.is_contiguous(memory_format=CL)
    assert native.record()["batchnorm"] == "native"
    assert native.label() == "channels_last, native batchnorm"
    assert Speed(memory_format="channels_last").label() == "channels_last"
    assert Speed(batchnorm="native").label() == ""  # no effect in the default layout
    assert Speed.from_cfg({"batchnorm": "native"}).batchnorm == "native"
    with pytest.raises(NasReproError, match="speed.batchnorm=fast: valid: summed, native"):
        Speed(batchnorm="fast")


def test_its_output_takes_in_place_ops():
    """Its output is a whole tensor, not a view: the DARTS networks' in-place drop-path and
    ReLUs modify it."""
    torch.manual_seed(0)
    ref, ours = nn.BatchNorm2d(3), SummedBatchNorm2d(3)
    x = torch.randn(2, 3, 4, 4).contiguous(memory_format=CL)
    grads = []
    for bn in (ref, ours):
        xi = x.clone().requires_grad_(True)
        F.relu(bn(xi).mul_(2)).sum().backward()
        grads.append(xi.grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-6)
