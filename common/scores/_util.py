"""Helpers shared by the training-free scores: BN mode, logits of models that return tuples,
and hooks on the rectifier modules whose activation patterns NASWOT and TE-NAS read.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator

import torch
from torch import nn

# Modules whose output sign is the ReLU code of a unit. NASWOT hooks every module whose type
# name contains "ReLU" (score_networks.py / search.py); TE-NAS hooks nn.ReLU. Both read
# ``x > 0``, which for ReLU, ReLU6 and LeakyReLU is the same on input and output.
RECTIFIERS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6, nn.LeakyReLU)


@contextlib.contextmanager
def module_mode(net: nn.Module, train: bool) -> Iterator[nn.Module]:
    """Put every submodule in train (``True``) or eval mode, restoring each one's own flag."""
    saved = {m: m.training for m in net.modules()}
    net.train(train)
    try:
        yield net
    finally:
        for m, flag in saved.items():
            m.training = flag


@contextlib.contextmanager
def full_fp32() -> Iterator[None]:
    """Disable TF32 in CUDA convolutions and matrix products (on by default for cuDNN on
    Ampere and later GPUs). TF32 keeps 10 mantissa bits: enough to move the smallest NTK
    eigenvalue of a kernel whose condition number is ~1e3. No effect on the CPU."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        saved = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def logits_of(output: torch.Tensor | tuple | list) -> torch.Tensor:
    """The logits of ``net(x)``: the tensor itself, or the last element of a tuple (the NB-201
    reference networks return ``(features, logits)``)."""
    if isinstance(output, (tuple, list)):
        return output[-1]
    return output


def rectifier_modules(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, RECTIFIERS)]


@contextlib.contextmanager
def on_rectifier_outputs(
    net: nn.Module, fn: Callable[[nn.Module, torch.Tensor], None]
) -> Iterator[int]:
    """Call ``fn(module, output)`` after each rectifier's forward; yields how many are hooked.

    Rectifiers applied as functions (``F.relu``) are invisible here, as in both reference
    implementations: their units do not count.
    """
    handles = [
        m.register_forward_hook(lambda mod, _inp, out: fn(mod, out)) for m in rectifier_modules(net)
    ]
    try:
        yield len(handles)
    finally:
        for h in handles:
            h.remove()


def weight_layers(net: nn.Module) -> list[nn.Module]:
    """Conv and linear layers: the ``get_layer_metric_array`` selection of zero-cost-nas."""
    return [m for m in net.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear))]
