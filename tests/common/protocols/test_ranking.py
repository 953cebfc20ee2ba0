"""Ranking quality of a supernet: the statistics against scipy and hand computations, the
bootstrap intervals, the architecture sample, and the curve callback during training."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch
from scipy import stats

from common.protocols.one_shot import fixed_batches
from common.protocols.ranking import (
    RankingCurve,
    kendall_tau,
    precision_at_top,
    ranking_report,
    ranking_sample,
    spearman,
)
from common.training.single_path import SinglePathSupernetModule, UniformSampler
from tests.common.training.chain import ChainSupernet, chain_space, loader

SCORES = [0.1, 0.4, 0.3, 0.9, 0.5, 0.2, 0.8, 0.7, 0.6, 0.0]
TRUTH = [1.0, 3.0, 4.0, 9.0, 5.0, 2.0, 7.0, 8.0, 6.0, 0.0]


def test_tau_and_spearman_by_hand_and_against_scipy():
    # (1,2,3,4) against (1,3,2,4): 5 concordant pairs, 1 discordant -> tau (5-1)/6;
    # rank differences 0,1,1,0 -> rho 1 - 6*2/(4*15) = 0.8
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert kendall_tau(SCORES, TRUTH) == pytest.approx(stats.kendalltau(SCORES, TRUTH).statistic)
    assert spearman(SCORES, TRUTH) == pytest.approx(stats.spearmanr(SCORES, TRUTH).statistic)
    # ties: tau-b, as scipy's default
    tied = [1, 1, 2, 3]
    assert kendall_tau(tied, [1, 2, 3, 4]) == pytest.approx(5 / np.sqrt(5 * 6))


def test_precision_at_top_by_hand():
    # 10 archs, top 20 % = 2: by score {3, 6}, by truth {3, 7} -> 1/2
    assert precision_at_top(SCORES, TRUTH, 0.2) == 0.5
    # top 5 % of 10 rounds up to 1: index 3 both times
    assert precision_at_top(SCORES, TRUTH, 0.05) == 1.0
    assert precision_at_top([3, 2, 1], [1, 2, 3], 0.2) == 0.0  # k = 1: {0} vs {2}
    assert precision_at_top([3, 2, 1], [1, 2, 3], 0.34) == 0.5  # k = ceil(1.02) = 2: {0,1} vs {2,1}


def test_report_intervals():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=200)
    scores = truth + rng.normal(size=200)  # tau ~ 0.5
    rep = ranking_report(scores, truth, num_boot=500, seed=1)
    assert rep["n"] == 200
    for name in ("kendall_tau", "spearman", "p_at_top"):
        lo, hi = rep[f"{name}_ci"]
        assert lo <= rep[name] <= hi
    assert 0.3 < rep["kendall_tau_ci"][0] < rep["kendall_tau_ci"][1] < 0.7
    assert ranking_report(scores, truth, num_boot=500, seed=1) == rep  # seeded
    with pytest.raises(ValueError, match="paired"):
        ranking_report([1, 2], [1, 2])


def test_report_survives_undefined_resamples():
    rep = ranking_report([1.0, 1.0, 1.0, 2.0], [1.0, 2.0, 3.0, 4.0], num_boot=200)
    assert np.isfinite(rep["kendall_tau_ci"]).all()  # resamples with all scores tied dropped


def test_sample_is_all_or_seeded_distinct():
    space = chain_space(ChainSupernet(layers=3))
    assert ranking_sample(space, None, 0) == list(space.all_paths())
    assert len(ranking_sample(space, 100, 0)) == 27
    a, b = ranking_sample(space, 10, 3), ranking_sample(space, 10, 3)
    assert a == b and len(set(a)) == 10 and ranking_sample(space, 10, 4) != a


def test_fixed_batches_are_the_same_images_every_time():
    data = torch.utils.data.TensorDataset(torch.arange(10.0)[:, None], torch.arange(10))
    first = fixed_batches(data, 2, 3, seed=0)
    assert [len(y) for _, y in first] == [3, 3]
    again = fixed_batches(data, 2, 3, seed=0)
    assert all(torch.equal(y1, y2) for (_, y1), (_, y2) in zip(first, again))
    assert len(fixed_batches(data, 9, 3, seed=0)) == 4  # no more images than the set has


def test_curve_during_training_restores_the_supernet():
    net = ChainSupernet(layers=3)
    space = chain_space(net)
    module = SinglePathSupernetModule(net, UniformSampler(space), epochs=3)
    archs = ranking_sample(space, 8, 0)
    truth = [sum(op == "c" for op in a) + 0.1 * i for i, a in enumerate(archs)]
    calls = []

    def evaluate(arch):  # a stand-in for inherited-weight accuracy: changes path and mode
        net.mixer.set_choice(space.choice(arch))
        net.eval()
        calls.append(arch)
        return -truth[archs.index(arch)]  # a perfectly inverted ranking

    logged = []
    curve = RankingCurve(
        evaluate, archs, truth, every=2, report={"num_boot": 50}, log=lambda d, s: logged.append(s)
    )
    states = []

    class Spy(L.Callback):  # runs after the curve: train mode and the trained path are back
        def on_train_epoch_end(self, trainer, pl_module):
            last = space.choice(pl_module.last_paths[-1])
            states.append(pl_module.training and net.mixer.choice() == last)

    trainer = L.Trainer(
        max_epochs=3,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[curve, Spy()],
    )
    trainer.fit(module, loader(n=16, batch=8))
    assert [h["epochs"] for h in curve.history] == [2, 3]  # every 2 epochs, and at the end
    assert [h["path_steps"] for h in curve.history] == [4, 6]
    assert logged == [2, 3] and len(calls) == 16 and all(states)
    assert curve.history[-1]["kendall_tau"] == pytest.approx(-1.0)
    assert curve.history[-1]["spearman"] == pytest.approx(-1.0)
    assert curve.history[-1]["p_at_top"] == 0.0
