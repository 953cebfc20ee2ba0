"""Gradients averaged over the ranks of a data-parallel run, for steps that DDP cannot see.

Lightning's DDP averages the gradients of a ``manual_backward`` through the wrapped forward.
A step that computes its gradients itself (DARTS's bilevel step: ``loss.backward()`` for the
weights, ``torch.autograd.grad`` for the architecture) bypasses DDP's reducer, so without
``average_grads`` every rank would step with the gradient of its own shard and the ranks'
weights and architecture parameters would drift apart. With equal shards, the mean of the
ranks' mean-loss gradients is the gradient of the global batch (per-device BatchNorm
statistics aside, as under DDP generally).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def world_size() -> int:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def average_grads(params: Iterable[torch.nn.Parameter]) -> None:
    """Replace each parameter's ``.grad`` by its mean over the ranks (one all-reduce); a
    missing gradient counts as zeros. Does nothing in a single process."""
    n = world_size()
    if n == 1:
        return
    params = list(params)
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    grads = average([p.grad for p in params])
    for p, g in zip(params, grads, strict=True):
        p.grad = g


def average(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """The mean over the ranks of each tensor (one all-reduce of them flattened together)."""
    import torch.distributed as dist

    n = world_size()
    if n == 1 or not tensors:
        return tensors
    flat = torch.cat([t.detach().reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    flat /= n
    out, start = [], 0
    for t in tensors:
        out.append(flat[start : start + t.numel()].view_as(t))
        start += t.numel()
    return out
