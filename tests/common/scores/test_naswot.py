"""NASWOT: the Hamming kernel and log-determinant against a hand computation, and the
invariances the construction implies."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from common.errors import NasReproError
from common.scores import SCORES
from common.scores.naswot import _INT8_MIN_UNITS, agreements, hamming_kernel, naswot_score


def one_hidden_layer() -> nn.Module:
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        net[0].bias.copy_(torch.tensor([0.0, 0.0, -1.0]))
    return net


def test_kernel_and_score_match_hand_computation():
    # pre-activations: (1,0,0), (0,1,0), (1,1,1), (-1,-1,-3) -> codes 100, 010, 111, 000
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, -1.0]])
    # K[i, j] = 3 - Hamming(c_i, c_j)
    expected = np.array([[3, 1, 1, 2], [1, 3, 1, 2], [1, 1, 3, 0], [2, 2, 0, 3]], dtype=float)
    np.testing.assert_array_equal(hamming_kernel(one_hidden_layer(), x), expected)
    # det by cofactor expansion = 12
    assert naswot_score(one_hidden_layer(), x) == pytest.approx(math.log(12.0), abs=1e-12)
    assert SCORES["naswot"](one_hidden_layer(), x) == pytest.approx(math.log(12.0), abs=1e-12)


def test_kernel_sums_over_layers():
    # A second ReLU layer adds its own agreements: K = K_1 + K_2.
    net = nn.Sequential(one_hidden_layer()[:2], nn.Linear(3, 2), nn.ReLU())
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]))
        net[1].bias.zero_()
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, -1.0]])
    # layer 2 pre-activations: (1, 0), (-1, 0), (0, 1), (0, 0) -> codes 10, 00, 01, 00
    k2 = np.array([[2, 1, 0, 1], [1, 2, 1, 2], [0, 1, 2, 1], [1, 2, 1, 2]], dtype=float)
    k1 = np.array([[3, 1, 1, 2], [1, 3, 1, 2], [1, 1, 3, 0], [2, 2, 0, 3]], dtype=float)
    np.testing.assert_array_equal(hamming_kernel(net, x), k1 + k2)


def test_invariant_to_permuting_the_batch(small_nb201):
    x = torch.randn(16, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    perm = torch.randperm(16, generator=torch.Generator().manual_seed(2))
    a, b = naswot_score(small_nb201, x), naswot_score(small_nb201, x[perm])
    assert math.isfinite(a)
    assert a == pytest.approx(b, rel=1e-12, abs=1e-9)


def test_channels_last_network_gives_the_same_kernel(small_nb201):
    # The CPU search runs NHWC; its codes are read as an NHWC view (units in another order,
    # which K ignores). Mixing up samples would change K by its own size, not by 1e-4.
    x = torch.randn(16, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    k = hamming_kernel(small_nb201, x)
    nhwc = small_nb201.to(memory_format=torch.channels_last)
    k_nhwc = hamming_kernel(nhwc, x.contiguous(memory_format=torch.channels_last))
    np.testing.assert_allclose(k_nhwc, k, rtol=1e-4)


def test_duplicate_inputs_make_the_kernel_singular():
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert naswot_score(one_hidden_layer(), x) == -math.inf


def test_leaves_network_mode_and_weights_alone(small_nb201):
    small_nb201.eval()
    before = [p.clone() for p in small_nb201.parameters()]
    naswot_score(small_nb201, torch.randn(8, 3, 16, 16))
    assert not any(m.training for m in small_nb201.modules())
    assert all(torch.equal(a, b) for a, b in zip(before, small_nb201.parameters(), strict=True))


@pytest.mark.parametrize("n", [1, 3, 16, 128])
@pytest.mark.parametrize("units", [1, 2, 63, 64, 65, 1000, 4097])
def test_agreements_count_equal_bits_exactly(n, units):
    # Both products (int8 on the CPU from 64 units, float32 below) against a count in numpy.
    codes = torch.rand(n, units, generator=torch.Generator().manual_seed(n * units)) > 0.5
    c = codes.numpy()
    expected = (c[:, None, :] == c[None, :, :]).sum(-1)
    got = agreements(codes)
    assert not got.is_floating_point() or units < _INT8_MIN_UNITS
    np.testing.assert_array_equal(got.numpy(), expected)


def test_int8_product_matches_float_at_search_size():
    # The largest NB-201 layer of a NASWOT search: 128 inputs x 16 x 32 x 32 units. A torch
    # upgrade that broke the int8 product here would move every CPU score.
    codes = torch.rand(128, 16 * 32 * 32, generator=torch.Generator().manual_seed(0)) > 0.3
    c32 = codes.to(torch.float32)
    ones = c32.sum(1)
    expected = 2 * (c32 @ c32.T) - ones[:, None] - ones[None, :] + codes.shape[1]
    np.testing.assert_array_equal(agreements(codes).numpy(), expected.numpy())


# --- Fidelity to the official hooks (search.py @b3a82a6) -------------------------------------


def official_kernel(net: nn.Module, x: torch.Tensor) -> np.ndarray:
    """search.py's ``K``, restated independently of common.scores: modules whose type string
    holds 'ReLU', input codes, counted only if a legacy backward hook fired during a backward
    pass of the logits; float32 ``x x^T + (1-x)(1-x)^T`` per call into a float64 array."""
    kernel = np.zeros((x.shape[0], x.shape[0]))
    visited: set[int] = set()

    def fwd(module, inp, _out):
        nonlocal kernel
        if id(module) not in visited:
            return
        c = (inp[0].reshape(inp[0].size(0), -1) > 0).float()
        kernel = kernel + (c @ c.t()).numpy() + ((1.0 - c) @ (1.0 - c.t())).numpy()

    hooked = [m for m in net.modules() if "ReLU" in str(type(m))]
    # the legacy module backward hook search.py uses (it fires on the output's grad_fn)
    handles = [m.register_backward_hook(lambda m, *_: visited.add(id(m))) for m in hooked]
    handles += [m.register_forward_hook(fwd) for m in hooked]
    net.train()
    x1 = x.clone().requires_grad_(True)
    y = net(x1)
    y.backward(torch.ones_like(y))
    net(x.clone())
    for h in handles:
        h.remove()
    net.zero_grad(set_to_none=True)
    return kernel


class ReLULinear(nn.Module):
    """A wrapper whose class name holds 'ReLU', as the NB-201 ReLUConvBN: search.py hooks it
    as well as the nn.ReLU inside it, both reading the same codes."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), linear)

    def forward(self, x):
        return self.op(x)


def test_official_hooks_count_a_relu_wrapper_and_its_relu():
    # one_hidden_layer with ReLU -> Linear wrapped: K = 2 K_1, det = 2^4 * 12.
    net = one_hidden_layer()
    wrapped = nn.Sequential(net[0], ReLULinear(net[2]))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, -1.0]])
    k1 = np.array([[3, 1, 1, 2], [1, 3, 1, 2], [1, 1, 3, 0], [2, 2, 0, 3]], dtype=float)
    np.testing.assert_array_equal(hamming_kernel(wrapped, x), 2 * k1)
    assert naswot_score(wrapped, x) == pytest.approx(math.log(192.0), abs=1e-12)
    # the project's first definition counted the layer once
    assert naswot_score(wrapped, x, hooks="relu_modules") == pytest.approx(math.log(12.0))
    np.testing.assert_array_equal(official_kernel(wrapped, x), 2 * k1)


class Odd(nn.Module):
    """Every case the official hooks treat specially: a ReLU wrapper, an in-place ReLU, one
    ReLU module called twice, a LeakyReLU, and a branch that never reaches the logits."""

    def __init__(self) -> None:
        super().__init__()
        self.a = ReLULinear(nn.Linear(5, 7))
        self.b = nn.Linear(5, 7)
        self.shared = nn.ReLU()
        self.inplace = nn.ReLU(inplace=True)
        self.leaky = nn.LeakyReLU(0.1)
        self.c = nn.Linear(7, 6)
        self.dead = nn.Sequential(nn.Linear(5, 9), nn.ReLU())
        self.out = nn.Linear(6, 1)

    def forward(self, x):
        h = self.shared(self.a(x)) + self.shared(self.b(x))
        h = self.leaky(self.c(self.inplace(h)))
        self.dead(x)  # computed, unused: no gradient path, so search.py skips it
        return self.out(h)


def test_matches_the_official_hooks_on_edge_cases():
    torch.manual_seed(0)
    net, x = Odd(), torch.randn(12, 5)
    expected = official_kernel(net, x)
    got = hamming_kernel(net, x, backward_check=True)
    np.testing.assert_array_equal(got, expected)
    assert naswot_score(net, x, backward_check=True) == pytest.approx(
        np.linalg.slogdet(expected)[1], rel=1e-12
    )
    # without the backward pass the dead branch's ReLU counts: the documented difference
    # (none in NB-201, below)
    dead = hamming_kernel(net.dead, x)
    np.testing.assert_array_equal(hamming_kernel(net, x), expected + dead)


def test_matches_the_official_hooks_on_nb201(small_nb201):
    # The old definition (nn.ReLU outputs only) was 5-6% lower on the C=16 network; here it
    # must differ, and the official hooks must give search.py's kernel to the integer.
    x = torch.randn(16, 3, 16, 16, generator=torch.Generator().manual_seed(4))
    expected = official_kernel(small_nb201, x)
    np.testing.assert_array_equal(hamming_kernel(small_nb201, x), expected)
    np.testing.assert_array_equal(hamming_kernel(small_nb201, x, backward_check=True), expected)
    old = hamming_kernel(small_nb201, x, hooks="relu_modules")
    assert (expected - old).min() > 0
    nhwc = small_nb201.to(memory_format=torch.channels_last)
    k = hamming_kernel(nhwc, x.contiguous(memory_format=torch.channels_last))
    np.testing.assert_allclose(k, expected, rtol=1e-4)


def test_unknown_hooks_is_one_clear_error():
    with pytest.raises(NasReproError, match="NASWOT hooks"):
        naswot_score(one_hidden_layer(), torch.randn(4, 2), hooks="relu")
