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

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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


def global_rank() -> int:
    """This process's rank in a data-parallel run, from the environment a launcher sets
    (Lightning's ``ddp`` children, torchrun, SLURM tasks); 0 in a single process."""
    from lightning.fabric.utilities.rank_zero import _get_rank

    return _get_rank() or 0


_SCRATCH: tempfile.TemporaryDirectory | None = None


def scratch_dir() -> Path:
    """This process's scratch folder (one per process, removed when it exits): where a rank
    other than 0 writes what its stage writes into the run folder."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = tempfile.TemporaryDirectory(prefix=f"nasrepro-rank{global_rank()}-")
    return Path(_SCRATCH.name)


def mute(logger: Any) -> None:
    """Make a rank other than 0 write nothing through ``logger`` (a ``RunLogger``): no CSV
    lines, no W&B, and files the stage writes into ``logger.run_dir`` (genotypes, histories)
    land in this process's scratch folder. Rank 0 writes the run's logs and artefacts."""
    logger.csv_path = None
    logger.wandb_run = None
    logger.run_dir = scratch_dir()


def sync_module(module: torch.nn.Module) -> None:
    """Rank 0's weights and buffers in every rank's ``module`` (after a fit): the ranks'
    parameters agree already (DDP, ``average_grads``), BatchNorm statistics do not (they are
    per device), and what a stage derives next (a genotype, a test pass) must be rank 0's."""
    if world_size() == 1:
        return
    state = broadcast({k: v.detach().cpu() for k, v in module.state_dict().items()})
    module.load_state_dict(state)


def same_on_all_ranks(obj: Any) -> bool:
    """Whether ``obj`` (anything picklable that compares with ``==``) is equal on every rank
    (True in a single process); every rank must call it."""
    import torch.distributed as dist

    if world_size() == 1:
        return True
    objs: list[Any] = [None] * world_size()
    dist.all_gather_object(objs, obj)
    return all(o == objs[0] for o in objs)


def broadcast(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (as is in a single process): what a fit returns must be
    the same on all ranks, or their tasks would take different paths and the next fit hang."""
    import torch.distributed as dist

    if world_size() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
