"""Zero-cost proxies against explicit formulas on a 2-layer MLP, synflow against its closed
form on a linear chain, and the invariances the paper states."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from common.scores import SCORES, zero_cost_scores
from common.scores.zero_cost import (
    PROXIES,
    jacob_cov_from_jacobian,
    loss_gradient_proxies,
    synflow,
)


@pytest.fixture
def mlp_batch():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
    x = torch.randn(6, 4)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    return net, x, y


def manual_backprop(net, x, y):
    """Forward and backward of mean cross-entropy written out in numpy (float64)."""
    w1, b1 = (net[0].weight.detach().double().numpy(), net[0].bias.detach().double().numpy())
    w2, b2 = (net[2].weight.detach().double().numpy(), net[2].bias.detach().double().numpy())
    xs, n = x.double().numpy(), len(y)
    z1 = xs @ w1.T + b1
    h = np.maximum(z1, 0)
    z2 = h @ w2.T + b2
    p = np.exp(z2 - z2.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz2 = (p - np.eye(3)[y.numpy()]) / n
    dw2 = dz2.T @ h
    dz1 = (dz2 @ w2) * (z1 > 0)
    dw1 = dz1.T @ xs
    return dict(w1=w1, w2=w2, z1=z1, z2=z2, dz1=dz1, dz2=dz2, dw1=dw1, dw2=dw2)


def test_grad_norm_snip_fisher_match_explicit_formulas(mlp_batch):
    net, x, y = mlp_batch
    m = manual_backprop(net, x, y)
    grad_norm = np.linalg.norm(m["dw1"]) + np.linalg.norm(m["dw2"])
    snip = np.abs(m["w1"] * m["dw1"]).sum() + np.abs(m["w2"] * m["dw2"]).sum()
    # per output unit k: 0.5 * mean_n (a_nk * dL/da_nk)^2, counted fan-in times
    fisher = 4 * (0.5 * (m["z1"] * m["dz1"]) ** 2).mean(0).sum()
    fisher += 5 * (0.5 * (m["z2"] * m["dz2"]) ** 2).mean(0).sum()
    got = loss_gradient_proxies(net, x, y, ["grad_norm", "snip", "fisher"])
    assert got["grad_norm"] == pytest.approx(grad_norm, rel=1e-5)
    assert got["snip"] == pytest.approx(snip, rel=1e-5)
    assert got["fisher"] == pytest.approx(fisher, rel=1e-5)
    for name in ("grad_norm", "snip", "fisher"):  # the registry's one-proxy entry points
        assert SCORES[name](net, x, y) == pytest.approx(got[name], rel=1e-6)


def test_grasp_matches_explicit_hessian(mlp_batch):
    net, x, y = mlp_batch
    net, x = copy.deepcopy(net).double(), x.double()
    w1, w2 = net[0].weight.detach(), net[2].weight.detach()
    sizes = (w1.numel(), w2.numel())

    def loss_of(theta):
        a, b = theta.split(sizes)
        h = F.relu(F.linear(x, a.view_as(w1), net[0].bias.detach()))
        return F.cross_entropy(F.linear(h, b.view_as(w2), net[2].bias.detach()), y)

    theta = torch.cat([w1.flatten(), w2.flatten()]).requires_grad_(True)
    hess = torch.autograd.functional.hessian(loss_of, theta)
    (g,) = torch.autograd.grad(loss_of(theta), theta)
    expected = float(-(theta.detach() * (hess @ g)).sum())
    assert expected != 0.0
    assert SCORES["grasp"](net, x, y) == pytest.approx(expected, rel=1e-8)


def test_jacob_cov_matches_explicit_formula(mlp_batch):
    net, x, _ = mlp_batch
    with torch.no_grad():
        net[0].bias.fill_(1.0)  # every sample keeps an active unit: no all-zero Jacobian row
    m = manual_backprop(net, x, torch.zeros(6, dtype=torch.long))
    # d(sum_c z2_c)/dx for sample n = (1^T W2) diag(z1_n > 0) W1
    jac = (m["w2"].sum(0) * (m["z1"] > 0)) @ m["w1"]
    corr = np.corrcoef(jac)
    v = np.real(np.linalg.eigvals(corr))
    expected = -np.sum(np.log(v + 1e-5) + 1 / (v + 1e-5))
    assert SCORES["jacob_cov"](net, x) == pytest.approx(expected, rel=1e-5)
    assert np.isnan(jacob_cov_from_jacobian(np.ones((3, 4))))  # constant rows: undefined


def linear_chain(with_bn: bool) -> nn.Module:
    torch.manual_seed(1)
    layers = [nn.Linear(3, 4, bias=False)]
    if with_bn:
        layers.append(nn.BatchNorm1d(4))
    layers.append(nn.Linear(4, 2, bias=False))
    return nn.Sequential(*layers)


@pytest.mark.parametrize("with_bn", [False, True])
def test_synflow_closed_form_on_linear_chain(with_bn):
    net = linear_chain(with_bn)
    w1, w2 = net[0].weight.detach().double(), net[-1].weight.detach().double()
    r = float(torch.ones(2, dtype=torch.float64) @ w2.abs() @ w1.abs() @ torch.ones(3).double())
    # each layer's saliencies sum to R (synaptic flow is conserved), two layers -> 2R;
    # BN is removed (zero-cost-nas runs synflow with bn=False)
    assert synflow(net, torch.randn(5, 3)) == pytest.approx(2 * r, rel=1e-12)


def test_synflow_is_data_and_sign_independent(small_nb201):
    a = synflow(small_nb201, torch.randn(4, 3, 16, 16))
    b = synflow(small_nb201, torch.zeros(9, 3, 16, 16))
    flipped = copy.deepcopy(small_nb201)
    with torch.no_grad():
        for p in flipped.parameters():
            p.neg_()
    assert a == b
    assert synflow(flipped, torch.randn(2, 3, 16, 16)) == pytest.approx(a, rel=1e-12)


def test_all_proxies_together_equal_one_by_one(small_nb201):
    x = torch.randn(6, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.arange(6) % 10
    together = zero_cost_scores(small_nb201, x, y)
    assert list(together) == list(PROXIES)
    for name in PROXIES:
        assert SCORES[name](small_nb201, x, y) == pytest.approx(together[name], rel=1e-5)


def test_proxies_leave_the_network_untouched(small_nb201):
    small_nb201.eval()
    state = copy.deepcopy(small_nb201.state_dict())
    zero_cost_scores(small_nb201, torch.randn(4, 3, 16, 16), torch.arange(4))
    assert not any(m.training for m in small_nb201.modules())
    for k, v in small_nb201.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert all(p.grad is None for p in small_nb201.parameters())
