"""The training-free evaluator: a score of the network it builds, oriented higher-is-better,
with the builds drawing torch's RNG in evaluation order."""

import functools

import pytest
import torch

from common.errors import NasReproError
from common.evaluators.training_free import TrainingFreeEvaluator
from common.scores import SCORES
from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network

CELLS = [
    Nb201Arch(("nor_conv_3x3",) * 6),
    Nb201Arch(
        ("nor_conv_1x1", "skip_connect", "nor_conv_3x3", "avg_pool_3x3", "none", "nor_conv_1x1")
    ),
]


def build(arch, num_classes=1):
    return Nb201Network(arch, num_classes, channels=4, cells_per_stage=1)


def test_scores_each_network_as_a_loop_building_in_order_would():
    x = torch.randn(6, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(3)
    expected = [SCORES["naswot"](build(a), x) for a in CELLS]
    torch.manual_seed(3)
    ev = TrainingFreeEvaluator("naswot", build, x)
    got = [ev.evaluate(a) for a in CELLS]
    assert [g.score for g in got] == expected  # bit-identical: same builds, same RNG stream
    assert got[0].info == {"naswot": expected[0]} and got[0].cost_s > 0
    assert ev.kind == "training-free" and ev.num_evaluations == 2


def test_lower_is_better_scores_are_negated():
    x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    ev = TrainingFreeEvaluator("ntk_cond", functools.partial(build, num_classes=10), x)
    result = ev.evaluate(CELLS[0])
    assert result.score == -result.info["ntk_cond"] and result.info["ntk_cond"] > 1


def test_unknown_score_is_one_line():
    with pytest.raises(NasReproError, match="unknown training-free score 'nope'"):
        TrainingFreeEvaluator("nope", build, torch.zeros(1))
