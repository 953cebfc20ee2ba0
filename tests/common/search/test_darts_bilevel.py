"""The DARTS architecture gradient: second order (finite-difference Hessian-vector product,
eqs. 7-8) against the exact hypergradient by double backward, on tiny real supernets."""

import pytest
import torch
from torch.nn import functional as F

from common.search.darts_bilevel import (
    exact_second_order_grad,
    first_order_grad,
    second_order_grad,
    split_parameters,
)
from common.supernets.darts import DartsSupernet
from common.supernets.nb201 import Nb201Supernet


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # tiny float64 problems: threads only add contention
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def tiny_nb201():
    torch.manual_seed(0)
    net = Nb201Supernet(num_classes=3, in_channels=2, channels=4, cells_per_stage=1, affine=False)
    with torch.no_grad():
        # away from uniform, so the gradient is not degenerate
        net.mixer.alphas["cell"].normal_(0, 0.5)
    return net.double()


def batches(in_channels=2, size=8, n=6, classes=3):
    g = torch.Generator().manual_seed(1)
    make = lambda: (  # noqa: E731
        torch.randn(n, in_channels, size, size, generator=g, dtype=torch.float64),
        torch.randint(0, classes, (n,), generator=g),
    )
    return make(), make()


def rel_err(a, b):
    a, b = torch.cat([t.flatten() for t in a]), torch.cat([t.flatten() for t in b])
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize(("momentum", "wd"), [(0.0, 0.0), (0.9, 3e-4)])
def test_second_order_matches_exact_hypergradient_nb201(momentum, wd):
    net = tiny_nb201()
    train, val = batches()
    _, weights, _ = split_parameters(net)
    bufs = [torch.randn_like(w) * 0.1 for w in weights] if momentum else None
    args = dict(xi=0.05, momentum=momentum, weight_decay=wd, momentum_buffers=bufs)
    # The paper's eps = 0.01 / ||v|| is meant for millions of weights; on this net of a few
    # hundred, pre-activations cross a ReLU kink between w- and w+ for r >= 1e-4 (the
    # gradient jumps there), so a smaller r keeps the central difference in its linear regime.
    approx, _ = second_order_grad(net, F.cross_entropy, train, val, **args, r=1e-5)
    exact = exact_second_order_grad(net, F.cross_entropy, train, val, **args)
    assert rel_err(approx, exact) < 1e-4
    first, _ = first_order_grad(net, F.cross_entropy, val)
    assert rel_err(first, exact) > 1e-3  # the second-order term is really there


def test_second_order_matches_exact_hypergradient_darts_space():
    torch.manual_seed(0)
    net = DartsSupernet(C=4, num_classes=3, layers=3).double()
    with torch.no_grad():
        for a in net.arch_parameters():
            a.normal_(0, 0.5)
    train, val = batches(in_channels=3, size=8, n=4)
    approx, _ = second_order_grad(net, F.cross_entropy, train, val, xi=0.025, r=1e-5)
    exact = exact_second_order_grad(net, F.cross_entropy, train, val, xi=0.025)
    assert rel_err(approx, exact) < 1e-4


def test_xi_zero_is_first_order():
    net = tiny_nb201()
    train, val = batches()
    approx, _ = second_order_grad(net, F.cross_entropy, train, val, xi=0.0)
    first, _ = first_order_grad(net, F.cross_entropy, val)
    assert rel_err(approx, first) < 1e-10


def test_weights_are_not_modified():
    net = tiny_nb201()
    before = [p.detach().clone() for p in net.parameters()]
    train, val = batches()
    second_order_grad(net, F.cross_entropy, train, val, xi=0.1)
    assert all(torch.equal(a, b.detach()) for a, b in zip(before, net.parameters(), strict=True))
