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
layer instead of holding all codes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from common.scores._util import module_mode, on_rectifier_outputs


def hamming_kernel(net: nn.Module, inputs: torch.Tensor, train_mode: bool = True) -> np.ndarray:
    """``K_H`` (float64, N x N) of ``net`` on ``inputs``: agreements of the binary ReLU codes."""
    n = inputs.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.float64, device=inputs.device)

    def accumulate(_module: nn.Module, out: torch.Tensor) -> None:
        nonlocal kernel
        codes = out.detach() > 0
        if codes.dim() == 4 and codes.is_contiguous(memory_format=torch.channels_last):
            codes = codes.permute(0, 2, 3, 1)  # NHWC view: no copy; K ignores the unit order
        codes = codes.reshape(n, -1).to(torch.float32)
        units = codes.shape[1]
        # c c^T + (1-c)(1-c)^T = 2 c c^T - |c_i| - |c_j| + units. Entries are counts <= units,
        # exact in float32 below 2**24 units per layer; summed over layers in float64.
        both = codes @ codes.T
        ones = codes.sum(1)
        agree = 2 * both - ones[:, None] - ones[None, :] + units
        kernel += agree.to(torch.float64)

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
) -> float:
    """NASWOT score of ``net`` on one mini-batch (labels unused). Higher is better."""
    del targets  # label-free
    return logdet_score(hamming_kernel(net, inputs, train_mode))
