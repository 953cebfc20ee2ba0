"""The inherited-weight evaluator: batch-norm statistics re-estimated exactly on the given
batches, and a score equal to the discrete network's accuracy with the supernet's weights."""

from __future__ import annotations

import pytest
import torch

from common.evaluators.inherited import (
    InheritedWeightsEvaluator,
    accuracy,
    recalibrate_batch_norm,
)
from common.spaces.nb201.arch import EDGES, Nb201Arch
from common.spaces.nb201.model import Nb201Network
from common.spaces.nb201.ops import ResNetBasicBlock
from common.supernets.mixers import SinglePathMixer
from common.supernets.nb201 import Nb201Supernet, arch_mask

ARCH = Nb201Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
)


def batches(n: int, seed: int, size: int = 8) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(size, 3, 8, 8, generator=g), torch.randint(0, 4, (size,), generator=g))
        for _ in range(n)
    ]


def discrete_copy(supernet: Nb201Supernet, arch: Nb201Arch) -> Nb201Network:
    net = Nb201Network(arch, 4, channels=4, cells_per_stage=1)
    net.stem.load_state_dict(supernet.stem.state_dict())
    for layer, super_layer in zip(net.cells, supernet.cells, strict=True):
        if isinstance(layer, ResNetBasicBlock):
            layer.load_state_dict(super_layer.state_dict())
            continue
        for e, ((node, inp), op) in enumerate(zip(EDGES, arch.ops, strict=True)):
            layer.edges[f"{node}<-{inp}"].load_state_dict(super_layer.edges[e][op].state_dict())
    net.lastact.load_state_dict(supernet.lastact.state_dict())
    net.classifier.load_state_dict(supernet.classifier.state_dict())
    return net


def test_recalibration_gives_the_mean_over_the_batches():
    torch.manual_seed(0)
    net = Nb201Supernet(4, mixer=SinglePathMixer, channels=4, cells_per_stage=1)
    net.stem[1].running_mean.fill_(5.0)  # stale statistics from "training"
    data = batches(3, seed=1)
    assert recalibrate_batch_norm(net, data) == 3
    assert not net.training and net.stem[1].momentum == 0.1  # momentum restored
    with torch.no_grad():
        features = torch.cat([net.stem[0](x) for x, _ in data])
    # equal batch sizes: the cumulative average of the batch means is the overall mean
    torch.testing.assert_close(net.stem[1].running_mean, features.mean(dim=(0, 2, 3)))
    assert int(net.stem[1].num_batches_tracked) == 3


def test_score_is_the_discrete_networks_accuracy_with_inherited_weights():
    torch.manual_seed(0)
    supernet = Nb201Supernet(4, mixer=SinglePathMixer, channels=4, cells_per_stage=1)
    bn_data, val_data = batches(4, seed=1), batches(5, seed=2)
    evaluator = InheritedWeightsEvaluator(supernet, arch_mask, bn_data, val_data)
    result = evaluator.evaluate(ARCH)
    net = discrete_copy(supernet, ARCH)
    recalibrate_batch_norm(net, bn_data)
    assert result.score == pytest.approx(accuracy(net, val_data))
    with torch.no_grad():  # the same function, not only the same accuracy
        torch.testing.assert_close(supernet(val_data[0][0]), net(val_data[0][0]))
    assert result.cost_s > 0 and result.info == {"bn_batches": 4}
    assert supernet.mixer.choice()["cell"] == ARCH.ops
    other = Nb201Arch.from_indices([1] * 6)
    evaluator.evaluate(other)
    assert evaluator.num_evaluations == 2 and supernet.mixer.choice()["cell"] == other.ops


def test_a_spent_budget_refuses_further_evaluations():
    torch.manual_seed(0)
    supernet = Nb201Supernet(4, mixer=SinglePathMixer, channels=4, cells_per_stage=1)
    evaluator = InheritedWeightsEvaluator(
        supernet, arch_mask, batches(1, 1), batches(1, 2), budget_s=1e-9
    )
    assert evaluator.evaluate(ARCH) is not None  # starts within the budget
    assert evaluator.evaluate(ARCH) is None
