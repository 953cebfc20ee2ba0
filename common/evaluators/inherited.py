"""Inherited-weight evaluation: an architecture scored with a trained supernet's weights.

The one-shot practice of SPOS (Guo et al., ECCV 2020, Sect. 3.3: "before the inference of an
architecture, the statistics of all the Batch Normalization operations are recalculated on a
random subset of training data"), FairNAS and ENAS-style searches: switch the supernet to the
architecture's single path, recompute every batch-norm layer's running statistics on training
batches (reset, then a cumulative average over the batches: the supernet's running statistics
mix every path it trained and fit none), then measure accuracy on validation batches in eval
mode. The score is that accuracy in percent, a search signal and never a final result; the
cost is the wall-clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from common.evaluators.base import Evaluation, Evaluator
from common.supernets.mixers import CellMask

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


@torch.no_grad()
def recalibrate_batch_norm(net: nn.Module, batches: Batches) -> int:
    """Reset the running statistics of every BN layer that tracks them and re-estimate them
    as the cumulative average over ``batches`` (train-mode forwards, no gradient, weights
    unchanged). Returns the number of batches used; leaves ``net`` in eval mode."""
    bns = [
        m
        for m in net.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
    ]
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average: every batch weighs the same
    net.train()
    n = 0
    try:
        for x, _ in batches:
            net(x)
            n += 1
    finally:
        for bn, momentum in zip(bns, momenta, strict=True):
            bn.momentum = momentum
        net.eval()
    return n


@torch.no_grad()
def accuracy(net: nn.Module, batches: Batches) -> float:
    """Top-1 accuracy in percent over ``batches``, in eval mode."""
    net.eval()
    correct = total = 0
    for x, y in batches:
        correct += int((net(x).argmax(dim=1) == y).sum())
        total += len(y)
    if total == 0:
        raise ValueError("no validation batches to evaluate on")
    return 100.0 * correct / total


class InheritedWeightsEvaluator(Evaluator):
    """Scores architectures with ``supernet``'s weights (see the module docstring).

    ``to_mask`` turns an architecture into the mixer's mask (``common.supernets.nb201.arch_mask``,
    ``common.supernets.darts.genotype_mask``); ``bn_batches`` and ``val_batches`` are
    re-iterable (lists or data loaders), on the supernet's device.
    """

    kind = "inherited-weights"

    def __init__(
        self,
        supernet: nn.Module,
        to_mask: Callable[[Any], dict[str, CellMask]],
        bn_batches: Batches,
        val_batches: Batches,
        budget_s: float = math.inf,
    ) -> None:
        super().__init__(budget_s)
        self.supernet = supernet
        self.to_mask = to_mask
        self.bn_batches = bn_batches
        self.val_batches = val_batches

    def _evaluate(self, arch: Any) -> Evaluation:
        self.supernet.mixer.set_mask(self.to_mask(arch))
        n = recalibrate_batch_norm(self.supernet, self.bn_batches)
        return Evaluation(accuracy(self.supernet, self.val_batches), -1.0, {"bn_batches": n})
