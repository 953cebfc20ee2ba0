"""Number of linear regions, TE-NAS's expressivity indicator (Chen, Gong, Wang, ICLR 2021,
Sect. 3.1.2, Definition 1 and Eq. 5; official code: VITA-Group/TENAS @9df78ff,
lib/procedures/linear_region_counter.py).

A ReLU network is piecewise linear; each linear region is the set of inputs sharing one
activation pattern (the sign of every rectified unit). Given sample inputs, the number of
regions they reveal is the number of distinct patterns among them. TE-NAS collects the
post-ReLU signs at every ``nn.ReLU`` (``update2D``: ``sign(output)``, i.e. ``output > 0``),
forwards the samples in batches (1000 at a time, network in train mode, so BN uses each
batch's statistics) and counts distinct rows (``calc_LR``). Here distinct rows are counted
exactly on bit-packed patterns.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from common.scores._util import module_mode, on_rectifier_outputs


def activation_patterns(
    net: nn.Module,
    inputs: torch.Tensor,
    train_mode: bool = True,
    batch_size: int | None = None,
) -> np.ndarray:
    """Bit-packed activation patterns (N x ceil(units / 8) uint8), one row per input."""
    chunks = []
    step = batch_size or inputs.shape[0]
    for start in range(0, inputs.shape[0], step):
        x = inputs[start : start + step]
        parts: list[torch.Tensor] = []

        def collect(_m: nn.Module, out: torch.Tensor, parts=parts, n=x.shape[0]) -> None:
            parts.append(out.detach().reshape(n, -1) > 0)

        with torch.no_grad(), module_mode(net, train_mode), on_rectifier_outputs(net, collect):
            net(x)
        if not parts:
            raise ValueError("the network has no nn.ReLU module: no activation pattern to read")
        bits = torch.cat(parts, 1).cpu().numpy()
        chunks.append(np.packbits(bits, axis=1))
    return np.concatenate(chunks, 0)


def count_distinct_rows(rows: np.ndarray) -> int:
    rows = np.ascontiguousarray(rows)
    as_bytes = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))
    return int(np.unique(as_bytes.ravel()).shape[0])


def num_linear_regions(
    net: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None = None,
    train_mode: bool = True,
    batch_size: int | None = None,
) -> int:
    """Distinct activation patterns of ``net`` over ``inputs`` (labels unused). Higher is better."""
    del targets  # label-free
    return count_distinct_rows(activation_patterns(net, inputs, train_mode, batch_size))
