"""NASWOT: the Hamming kernel and log-determinant against a hand computation, and the
invariances the construction implies."""

import math

import numpy as np
import pytest
import torch
from torch import nn

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
