"""The architecture gradient of DARTS (Liu, Simonyan, Yang, ICLR 2019, Sect. 2.3, eqs. 5-8),
shared by every differentiable search over any supernet that exposes ``arch_parameters()``.

First order (eq. 6 with xi = 0): grad_alpha L_val(w, alpha).

Second order: with the one-step unrolled weights w' = w - xi * grad_w L_train(w, alpha)
(the authors' code unrolls the full SGD step: momentum buffer and weight decay included),

    grad_alpha L_val(w', alpha) - xi * grad^2_{alpha,w} L_train(w, alpha) grad_w' L_val(w', alpha)

where the Hessian-vector product is the central finite difference of eq. 8,
(grad_alpha L_train(w+, alpha) - grad_alpha L_train(w-, alpha)) / (2 eps), w+- = w +- eps v,
v = grad_w' L_val(w', alpha), eps = 0.01 / ||v||. That is five passes: the forward+backward on
the training batch for the unrolled step, on the validation batch at w', and on the training
batch at w+ and w- (alpha gradients only), plus the forward of each.

The networks are evaluated at w', w+ and w- with ``torch.func.functional_call``: the module
is never copied and its parameters are never modified in place. Each pass runs inside a
profiler range named ``darts/<phase>`` (free when no profiler records), which
``scripts/benchmark_darts_search.py --breakdown`` reads.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call
from torch.profiler import record_function

Batch = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def split_parameters(net: nn.Module) -> tuple[list[str], list[nn.Parameter], list[nn.Parameter]]:
    """(weight names, weights, architecture parameters) of a supernet."""
    arch = list(net.arch_parameters())
    arch_ids = {id(a) for a in arch}
    names, weights = [], []
    for name, p in net.named_parameters():
        if id(p) not in arch_ids:
            names.append(name)
            weights.append(p)
    return names, weights, arch


def _loss_at(net, loss_fn, names, weights, batch: Batch) -> torch.Tensor:
    x, y = batch
    return loss_fn(functional_call(net, dict(zip(names, weights, strict=True)), (x,)), y)


def first_order_grad(
    net: nn.Module, loss_fn: LossFn, val: Batch
) -> tuple[list[torch.Tensor], float]:
    """grad_alpha L_val(w, alpha) and the validation loss."""
    _, _, arch = split_parameters(net)
    x, y = val
    with record_function("darts/first_order_grad"):
        loss = loss_fn(net(x), y)
        grads = list(torch.autograd.grad(loss, arch))
    return grads, float(loss.detach())


def unrolled_weights(
    grads: list[torch.Tensor],
    weights: list[torch.Tensor],
    xi: float,
    momentum: float,
    weight_decay: float,
    momentum_buffers: list[torch.Tensor | None],
) -> list[torch.Tensor]:
    """w' = w - xi * (momentum * buf + grad + wd * w), the authors' `_compute_unrolled_model`
    (multi-tensor ops: a supernet has over a thousand weight tensors)."""
    step = list(torch._foreach_add(list(grads), list(weights), alpha=weight_decay))
    with_buf = [i for i, b in enumerate(momentum_buffers) if b is not None]
    if with_buf and momentum:
        moved = torch._foreach_add(
            [step[i] for i in with_buf], [momentum_buffers[i] for i in with_buf], alpha=momentum
        )
        for i, t in zip(with_buf, moved, strict=True):
            step[i] = t
    return list(torch._foreach_add(list(weights), step, alpha=-xi))


def second_order_grad(
    net: nn.Module,
    loss_fn: LossFn,
    train: Batch,
    val: Batch,
    xi: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    momentum_buffers: list[torch.Tensor | None] | None = None,
    r: float = 0.01,
) -> tuple[list[torch.Tensor], float]:
    """The approximate architecture gradient of eqs. 7-8, and the validation loss at w'."""
    names, weights, arch = split_parameters(net)
    buffers = momentum_buffers or [None] * len(weights)
    # 1. the unrolled step, on the training batch
    x, y = train
    with record_function("darts/unrolled_step"):
        grads = torch.autograd.grad(loss_fn(net(x), y), weights)
        with torch.no_grad():
            w_prime = unrolled_weights(grads, weights, xi, momentum, weight_decay, buffers)
        w_prime = [w.requires_grad_() for w in w_prime]
    # 2. validation loss at w': its gradients w.r.t. alpha and w'
    with record_function("darts/val_at_w_prime"):
        val_loss = _loss_at(net, loss_fn, names, w_prime, val)
        all_grads = torch.autograd.grad(val_loss, [*arch, *w_prime])
        d_alpha, v = all_grads[: len(arch)], all_grads[len(arch) :]
    # 3. Hessian-vector product by central differences around w (eq. 8)
    with record_function("darts/hvp_w_plus"):
        with torch.no_grad():
            eps = r / torch.stack(torch._foreach_norm(list(v))).norm()
            scaled = torch._foreach_mul(list(v), eps)
            w_plus = torch._foreach_add(list(weights), scaled)
        g_plus = torch.autograd.grad(_loss_at(net, loss_fn, names, w_plus, train), arch)
    with record_function("darts/hvp_w_minus"):
        with torch.no_grad():
            w_minus = torch._foreach_sub(list(weights), scaled)
        g_minus = torch.autograd.grad(_loss_at(net, loss_fn, names, w_minus, train), arch)
        hvp = [(gp - gm) / (2 * eps) for gp, gm in zip(g_plus, g_minus, strict=True)]
    return [da - xi * h for da, h in zip(d_alpha, hvp, strict=True)], float(val_loss.detach())


def exact_second_order_grad(
    net: nn.Module,
    loss_fn: LossFn,
    train: Batch,
    val: Batch,
    xi: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    momentum_buffers: list[torch.Tensor | None] | None = None,
) -> list[torch.Tensor]:
    """d/d alpha of L_val(w'(alpha), alpha) by double backward: the reference for tests."""
    names, weights, arch = split_parameters(net)
    buffers = momentum_buffers or [None] * len(weights)
    train_loss = _loss_at(net, loss_fn, names, weights, train)
    grads = torch.autograd.grad(train_loss, weights, create_graph=True)
    w_prime = unrolled_weights(list(grads), weights, xi, momentum, weight_decay, buffers)
    return list(torch.autograd.grad(_loss_at(net, loss_fn, names, w_prime, val), arch))
