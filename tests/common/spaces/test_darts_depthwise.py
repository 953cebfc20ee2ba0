"""The DARTS ops' depthwise convolution computes its input gradient as a forward convolution
with the flipped kernel (``common/spaces/darts/ops.py``, for speed on the CPU): that gradient,
and the weight gradient, must be autograd's for every size-preserving kernel the space uses,
in both memory layouts."""

import pytest
import torch
from torch.nn import functional as F

from common.spaces.darts import ops


@pytest.mark.parametrize("kernel, dilation", [(3, 1), (5, 1), (3, 2), (5, 2)])
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_fast_backward_equals_autograd(kernel, dilation, layout):
    torch.manual_seed(0)
    pad = dilation * (kernel - 1) // 2
    conv = ops.DepthwiseConv2d(6, kernel, 1, pad, dilation).double().to(memory_format=layout)
    assert conv.same
    x = torch.randn(3, 6, 9, 9, dtype=torch.float64).contiguous(memory_format=layout)
    x.requires_grad_(True)
    out = conv(x)
    g = torch.randn_like(out)
    gx, gw = torch.autograd.grad(out, (x, conv.weight), g)
    x2 = x.detach().clone().requires_grad_(True)
    ref = F.conv2d(x2, conv.weight, None, 1, pad, dilation, 6)
    rx, rw = torch.autograd.grad(ref, (x2, conv.weight), g)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(gx, rx, rtol=0, atol=1e-10)
    torch.testing.assert_close(gw, rw, rtol=0, atol=1e-10)


def test_fast_backward_passes_gradcheck_and_strided_convs_keep_the_native_one():
    torch.manual_seed(1)
    conv = ops.DepthwiseConv2d(2, 3, 1, 2, 2).double()
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, w: ops._SameDepthwiseConv.apply(a, w, 2, 2),
                                    (x, conv.weight))  # fmt: skip
    assert not ops.DepthwiseConv2d(2, 3, 2, 1).same  # stride 2: nn.Conv2d's own backward


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_fast_backward_under_bf16_autocast_matches_the_native_one(layout):
    """``speed.precision=bf16``: autocast runs the convolution in bfloat16 but does not reach
    the Function's backward, so the op casts its inputs itself; the gradients then equal the
    native convolution's under the same autocast (both in bfloat16), in float32 parameters."""
    torch.manual_seed(2)
    conv = ops.DepthwiseConv2d(4, 5, 1, 4, 2).to(memory_format=layout)
    x = torch.randn(2, 4, 8, 8).contiguous(memory_format=layout)
    grads = []
    for fast in (True, False):
        ops.FAST_DEPTHWISE_BACKWARD = fast
        try:
            xi = x.clone().requires_grad_(True)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out = conv(xi)
            assert out.dtype == torch.bfloat16
            grads.append(torch.autograd.grad(out.float().square().sum(), (xi, conv.weight)))
        finally:
            ops.FAST_DEPTHWISE_BACKWARD = True
    (fx, fw), (nx, nw) = grads
    assert fx.dtype == torch.float32 and fw.dtype == torch.float32
    torch.testing.assert_close(fx, nx, rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(fw, nw, rtol=2e-2, atol=5e-2)
