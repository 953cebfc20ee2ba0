"""NASWOT score (Mellor, Turner, Storkey, Crowley, "Neural Architecture Search without
Training", ICML 2021, Sect. 3; official code: BayesWatch/nas-without-training @b3a82a6,
search.py and scores.py).

For a mini-batch of N inputs, each rectified unit gives a binary code ``c_i = [x_i > 0]`` per
input. The kernel ``K_H[i, j] = N_A - Hamming(c_i, c_j)`` counts the units on which inputs i
and j agree; the score is ``log |det K_H|``. A network that maps different inputs to
different activation patterns has a better-conditioned ``K_H`` and a higher score.

As in the official code: codes are read at every ``nn.ReLU`` (any module named ReLU), the
network runs in train mode (a freshly built module; BN normalises with batch statistics) and
no gradient is needed. ``K_H`` is accumulated layer by layer: one ``N x N`` matrix product per
layer instead of holding all codes, in exact integer arithmetic (int8 x int8 -> int32 on the
CPU), so the kernel does not depend on how the product is computed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from common.scores._util import module_mode, on_rectifier_outputs

# Below this many units per layer the int8 product gains nothing; at one unit torch 2.x's CPU
# ``_int_mm`` returns uninitialised memory (tests/common/scores/test_naswot.py sweeps shapes).
_INT8_MIN_UNITS = 64


def agreements(codes: torch.Tensor, int8_product: bool = True) -> torch.Tensor:
    """``c c^T + (1-c)(1-c)^T`` of boolean codes (N x units): per pair of inputs, the units on
    which they agree, as an exact integer tensor.

    Uses ``2 c c^T - |c_i| - |c_j| + units``. On the CPU ``c c^T`` is an int8 x int8 -> int32
    product (``torch._int_mm``; exact, ~3x faster than float32 there); elsewhere, or for tiny
    layers, a float32 product, exact below 2**24 units per layer. ``int8_product=False``
    forces the float32 product (the benchmark's reference); both give the same integers.
    """
    n, units = codes.shape
    if int8_product and codes.device.type == "cpu" and units >= _INT8_MIN_UNITS:
        c8 = codes.contiguous().view(torch.int8)  # bool is one byte of 0/1: a free view
        both = torch._int_mm(c8, c8.T).to(torch.int64)
    else:
        c32 = codes.to(torch.float32)
        both = c32 @ c32.T
    ones = both.diagonal()  # |c_i| = (c c^T)_ii: no pass over the codes
    return 2 * both - ones[:, None] - ones[None, :] + units


def hamming_kernel(
    net: nn.Module, inputs: torch.Tensor, train_mode: bool = True, int8_product: bool = True
) -> np.ndarray:
    """``K_H`` (float64, N x N) of ``net`` on ``inputs``: agreements of the binary ReLU codes."""
    n = inputs.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.float64, device=inputs.device)

    def accumulate(_module: nn.Module, out: torch.Tensor) -> None:
        nonlocal kernel
        codes = out.detach() > 0
        if codes.dim() == 4 and codes.is_contiguous(memory_format=torch.channels_last):
            codes = codes.permute(0, 2, 3, 1)  # NHWC view: no copy; K ignores the unit order
        kernel += agreements(codes.reshape(n, -1), int8_product).to(torch.float64)

    with torch.no_grad(), module_mode(net, train_mode), on_rectifier_outputs(net, accumulate):
        net(inputs)
    return kernel.cpu().numpy()


def logdet_score(kernel: np.ndarray) -> float:
    """``log |det K|`` as the official ``hooklogdet`` (``slogdet``); ``-inf`` if singular."""
    _sign, logdet = np.linalg.slogdet(kernel)
    return float(logdet)


def naswot_score(
    net: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None = None,
    train_mode: bool = True,
    int8_product: bool = True,
) -> float:
    """NASWOT score of ``net`` on one mini-batch (labels unused). Higher is better."""
    del targets  # label-free
    return logdet_score(hamming_kernel(net, inputs, train_mode, int8_product))
