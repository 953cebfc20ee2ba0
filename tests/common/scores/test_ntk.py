"""NTK condition number against an explicit Jacobian and a closed form."""

import math

import pytest
import torch
from torch import nn
from torch.func import functional_call

from common.scores.ntk import (
    condition_number,
    ntk_condition_number,
    ntk_gram,
    output_jacobian,
)


def explicit_jacobian(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """d(sum of each sample's logits)/d(weights) by torch.autograd.functional.jacobian."""
    names = [n for n, _ in net.named_parameters() if "weight" in n]
    params = dict(net.named_parameters())
    net.train()

    def f(*weights):
        return functional_call(net, {**params, **dict(zip(names, weights))}, (x,)).sum(1)

    jac = torch.autograd.functional.jacobian(f, tuple(params[n].detach() for n in names))
    return torch.cat([j.reshape(x.shape[0], -1) for j in jac], 1).double()


def test_gram_and_condition_number_match_explicit_jacobian(conv_bn_net):
    x = torch.randn(6, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    jac = explicit_jacobian(conv_bn_net, x)  # train-mode BN: samples coupled, as in TE-NAS
    gram = jac @ jac.T
    ours = ntk_gram(conv_bn_net, x)
    torch.testing.assert_close(ours, gram, rtol=1e-5, atol=1e-6)
    eig = torch.linalg.eigvalsh(gram)
    assert ntk_condition_number(conv_bn_net, x) == pytest.approx(float(eig[-1] / eig[0]), rel=1e-4)


def test_only_weights_enter_by_default(conv_bn_net):
    x = torch.randn(4, 3, 6, 6)
    n_weights = sum(p.numel() for n, p in conv_bn_net.named_parameters() if "weight" in n)
    n_all = sum(p.numel() for p in conv_bn_net.parameters())
    assert output_jacobian(conv_bn_net, x).shape == (4, n_weights)
    assert output_jacobian(conv_bn_net, x, params="all").shape == (4, n_all)


def test_vectorised_and_looped_jacobians_agree(small_nb201):
    x = torch.randn(4, 3, 8, 8)
    a = output_jacobian(small_nb201, x, vectorize=True)
    b = output_jacobian(small_nb201, x, vectorize=False)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_linear_model_closed_form():
    # f(x) = w . x: the Jacobian is X itself, Theta = X X^T = diag(4, 1), kappa = 4
    net = nn.Linear(2, 1, bias=False)
    x = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    assert ntk_condition_number(net, x) == pytest.approx(4.0, rel=1e-12)


def test_singular_kernel_is_infinite():
    net = nn.Linear(2, 1, bias=False)
    x = torch.tensor([[1.0, 2.0], [2.0, 4.0]])  # rank 1
    assert ntk_condition_number(net, x) == math.inf
    assert condition_number(torch.zeros(3, 3)) == math.inf
