"""The brief-training evaluator on real data (sklearn digits, a tiny NB-201 network, a few
batches): its score is a direct fit's validation accuracy with the same seed, and a cached
architecture is never trained again."""

from __future__ import annotations

import math

import lightning as L
import pytest

from common.data.digits import DigitsDataModule
from common.evaluators.brief_training import BriefTrainingEvaluator
from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network
from common.training.classifier import ClassifierModule

pytest.importorskip("sklearn")

CONV = Nb201Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)
POOL = Nb201Arch.parse(
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|"
)
TRAINER = {
    "accelerator": "cpu",
    "devices": 1,
    "enable_progress_bar": False,
    "enable_model_summary": False,
    "limit_train_batches": 4,
}
EPOCHS = 2


def make_data() -> DigitsDataModule:
    return DigitsDataModule(batch_size=32, eval_batch_size=512, val_fraction=0.2)


def make_module(arch: Nb201Arch, data: DigitsDataModule) -> ClassifierModule:
    net = Nb201Network(arch, data.num_classes, data.in_channels, channels=4, cells_per_stage=1)
    return ClassifierModule(net, lr=0.05, max_epochs=EPOCHS)


def evaluator(seed: int = 7, **kwargs) -> BriefTrainingEvaluator:
    kwargs = {"make_module": make_module, **kwargs}
    return BriefTrainingEvaluator(make_data, trainer=TRAINER, epochs=EPOCHS, seed=seed, **kwargs)


def direct_fit(arch: Nb201Arch, seed: int) -> float:
    """What the evaluator must do, written out with a plain Lightning Trainer."""
    L.seed_everything(seed, workers=True, verbose=False)
    data = make_data()
    module = make_module(arch, data)
    trainer = L.Trainer(**TRAINER, max_epochs=EPOCHS, logger=False, enable_checkpointing=False)
    trainer.fit(module, datamodule=data)
    return float(trainer.callback_metrics["val/acc"])


def test_score_is_the_validation_accuracy_of_a_direct_fit_with_the_same_seed():
    ev = evaluator(seed=7)
    result = ev.evaluate(CONV)
    assert ev.kind == "brief-training"
    assert result.score == direct_fit(CONV, seed=7)
    assert 0.0 <= result.score <= 100.0 and result.cost_s > 0
    assert result.info["seed"] == 7 and not result.info["cached"]
    assert result.info["metrics"]["val/acc"] == result.score
    assert ev.spent_s == result.cost_s and ev.num_evaluations == ev.num_trained == 1
    # the seed matters (so the equality above is not luck): another seed, another score
    assert evaluator(seed=8).evaluate(CONV).score != result.score


def test_a_cached_architecture_is_not_retrained():
    built: list[str] = []

    def counting(arch: Nb201Arch, data: DigitsDataModule) -> ClassifierModule:
        built.append(str(arch))
        return make_module(arch, data)

    ev = evaluator(seed=3, seed_step=10, make_module=counting)
    first = ev.evaluate(CONV)
    spent = ev.spent_s
    again = ev.evaluate(Nb201Arch.parse(str(CONV)))  # an equal spec, another object
    other = ev.evaluate(POOL)

    assert built == [str(CONV), str(POOL)]
    assert again.score == first.score and again.cost_s == 0.0 and again.info["cached"]
    assert ev.num_evaluations == 3 and ev.num_trained == 2
    assert ev.spent_s == pytest.approx(spent + other.cost_s)
    # the n-th call trains with seed + n * seed_step, cached calls counted
    assert (first.info["seed"], other.info["seed"]) == (3, 23)
    assert other.score == direct_fit(POOL, seed=23)


def test_a_spent_budget_refuses_and_a_missing_metric_scores_nan():
    ev = evaluator(metric="val/top5", budget_s=1e-9)
    result = ev.evaluate(POOL)
    assert math.isnan(result.score)
    assert ev.evaluate(CONV) is None and ev.num_evaluations == 1
