"""Condition number of the empirical neural tangent kernel, TE-NAS's trainability indicator
(Chen, Gong, Wang, "Neural Architecture Search on ImageNet in Four GPU Hours: A Theoretically
Inspired Perspective", ICLR 2021, Sect. 3.1.1, Eq. 3; official code: VITA-Group/TENAS
@9df78ff, lib/procedures/ntk.py ``get_ntk_n``).

``Theta = J J^T`` where row i of ``J`` is the gradient of ``sum_c z_c(x_i)`` (the sum of
sample i's logits, TE-NAS's ``logit[i].backward(ones)``) with respect to the parameters whose
name contains "weight" (conv, linear and BN scales; biases excluded, as in TE-NAS).
``kappa = lambda_max / lambda_min``; lower means more trainable.

TE-NAS runs the network in train mode, so BN couples the samples of the batch and row i is
the gradient through the whole batch's forward pass; that is kept here. Numerics: the
gradients are computed in the network's dtype with TF32 off on GPUs (``full_fp32``), then
``J`` is cast to float64 and the symmetric Gram matrix is diagonalised with ``eigvalsh``
(TE-NAS: float32 ``symeig``, where a tiny negative lambda_min turns kappa negative). A kernel
whose smallest eigenvalue is not positive is singular: kappa is ``inf``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from common.scores._util import full_fp32, logits_of, module_mode


def ntk_parameters(net: nn.Module, which: str = "weights") -> list[torch.nn.Parameter]:
    """``weights``: TE-NAS's selection (names containing "weight"); ``all``: every parameter."""
    params = []
    for name, p in net.named_parameters():
        if not p.requires_grad:
            continue
        if which == "all" or (which == "weights" and "weight" in name):
            params.append(p)
    if which not in ("weights", "all"):
        raise ValueError(f"ntk parameter selection must be 'weights' or 'all', got {which!r}")
    return params


def output_jacobian(
    net: nn.Module,
    inputs: torch.Tensor,
    train_mode: bool = True,
    params: str = "weights",
    vectorize: bool | None = None,
) -> torch.Tensor:
    """``J`` (N x P, float64): row i = d(sum of sample i's logits) / d(parameters).

    ``vectorize``: one vmapped backward over all N rows (fast on a GPU) or N backward passes
    (faster on a CPU); ``None`` picks by the inputs' device. Both give the same ``J``.
    """
    if vectorize is None:
        vectorize = inputs.is_cuda
    weights = ntk_parameters(net, params)
    with module_mode(net, train_mode), torch.enable_grad(), full_fp32():
        if vectorize:
            out = _summed_logits(net, inputs)
            eye = torch.eye(out.shape[0], dtype=out.dtype, device=out.device)
            try:  # one vmapped backward over the N unit vectors
                grads = torch.autograd.grad(
                    out, weights, grad_outputs=eye, is_grads_batched=True, allow_unused=True
                )
                return _flatten_batched(grads, weights, out.shape[0])
            except RuntimeError:
                pass  # an op without a batching rule: one backward per sample instead
        out = _summed_logits(net, inputs)
        rows = []
        for i in range(out.shape[0]):
            grads = torch.autograd.grad(out[i], weights, retain_graph=True, allow_unused=True)
            batched = [g[None] if g is not None else None for g in grads]
            rows.append(_flatten_batched(batched, weights, 1))
        return torch.cat(rows, 0)


def _summed_logits(net: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    return logits_of(net(inputs)).reshape(inputs.shape[0], -1).sum(1)


def _flatten_batched(grads, weights, n: int) -> torch.Tensor:
    cols = [
        (g.reshape(n, -1) if g is not None else w.new_zeros(n, w.numel())).to(torch.float64)
        for g, w in zip(grads, weights, strict=True)
    ]
    return torch.cat(cols, 1)


def ntk_gram(net: nn.Module, inputs: torch.Tensor, train_mode: bool = True, **kw) -> torch.Tensor:
    """The empirical NTK ``Theta = J J^T`` (N x N, float64)."""
    jac = output_jacobian(net, inputs, train_mode, **kw)
    return jac @ jac.T


def condition_number(gram: torch.Tensor) -> float:
    """``lambda_max / lambda_min`` of a symmetric PSD matrix; ``inf`` if it is singular."""
    eig = torch.linalg.eigvalsh(gram.to(torch.float64))  # ascending
    lo, hi = float(eig[0]), float(eig[-1])
    if not (lo > 0) or not math.isfinite(hi):
        return math.inf
    return hi / lo


def ntk_condition_number(
    net: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None = None,
    train_mode: bool = True,
    params: str = "weights",
) -> float:
    """TE-NAS's kappa_N of ``net`` on one mini-batch (labels unused). Lower is better."""
    del targets  # label-free
    return condition_number(ntk_gram(net, inputs, train_mode, params=params))
