"""The shared single-path supernet training: paths <-> architectures, uniform sampling, one
step updates exactly the sampled path, the learning-rate schedules, the choice counts."""

from __future__ import annotations

import copy
import math
import random

import lightning as L
import numpy as np
import pytest
import torch
from scipy import stats

from common.spaces.nb201.arch import OPS, Nb201Arch
from common.supernets.mixers import SinglePathMixer
from common.supernets.nb201 import Nb201Supernet, arch_mask
from common.training.single_path import (
    PathSpace,
    SinglePathSupernetModule,
    UniformSampler,
    ops_of,
)
from tests.common.training.chain import ChainSupernet, chain_space, loader

ARCH = Nb201Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
)


def fit(module: L.LightningModule, epochs: int = 1, batches: int | None = None, **data) -> None:
    trainer = L.Trainer(
        max_epochs=epochs,
        limit_train_batches=batches,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(module, loader(**data))


def test_nb201_paths_are_cells():
    net = Nb201Supernet(10, mixer=SinglePathMixer, channels=4, cells_per_stage=1)
    space = PathSpace.of(net.mixer, Nb201Arch, ops_of)
    assert space.positions == tuple(("cell", e) for e in range(6)) and space.choices == OPS
    assert space.size == 15_625 == len(set(space.all_paths()))
    path = space.path(ARCH)
    assert space.to_arch(path) == ARCH and space.mask(ARCH) == arch_mask(ARCH)
    net.mixer.set_choice(space.choice(path))
    assert net.mixer.choice() == {"cell": ARCH.ops}
    with pytest.raises(ValueError, match="a path has 6 ops"):
        space.check(("none",) * 5)
    with pytest.raises(ValueError, match="no cost function"):
        space.path_cost(path)


def test_uniform_sampling_frequencies():
    space = chain_space(ChainSupernet(layers=4))
    sampler, rng = UniformSampler(space), random.Random(0)
    paths = [p for _ in range(6000) for p in sampler.sample(rng)]
    assert len(paths) == 6000  # one path per step
    for pos in range(4):
        counts = [sum(p[pos] == op for p in paths) for op in space.choices]
        assert max(abs(c / 6000 - 1 / 3) for c in counts) < 0.03
        assert stats.chisquare(counts).pvalue > 1e-3
    # positions independent: the pair (pos 0, pos 1) is uniform over the 9 combinations
    pairs = [sum((p[0], p[1]) == (a, b) for p in paths) for a in "abc" for b in "abc"]
    assert stats.chisquare(pairs).pvalue > 1e-3


def test_one_step_updates_only_the_sampled_path():
    torch.manual_seed(0)
    net = ChainSupernet()
    space = chain_space(net)
    module = SinglePathSupernetModule(
        net, UniformSampler(space), epochs=1, lr=0.1, momentum=0.9, weight_decay=1e-2, seed=3
    )
    before = copy.deepcopy(net.state_dict())
    fit(module, batches=1)
    (path,) = module.last_paths
    for e, layer in enumerate(net.layers):
        for op, lin in layer.items():
            changed = not torch.equal(lin.weight, before[f"layers.{e}.{op}.weight"])
            assert changed == (op == path[e]), (e, op, path)  # no decay off the path either
    assert module.updates == 1 and module.path_steps == 1
    expected = torch.zeros(3, 3, dtype=torch.long)
    expected[torch.arange(3), torch.tensor(["abc".index(op) for op in path])] = 1
    assert torch.equal(module.choice_counts, expected)
    assert module.counts_table()["chain/0"][path[0]] == 1


def test_counts_and_history_over_epochs():
    net = ChainSupernet()
    module = SinglePathSupernetModule(net, UniformSampler(chain_space(net)), epochs=2, seed=0)
    fit(module, epochs=2, n=32, batch=8)  # 4 steps per epoch
    assert int(module.choice_counts.sum(dim=1).unique()) == 8  # one choice per position a step
    assert [h["path_steps"] for h in module.history] == [4, 8]
    assert all(
        h["epoch_wall_s"] > 0 and 0 <= h["supernet_train_acc"] <= 100 for h in module.history
    )


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_learning_rate_schedules(schedule):
    net = ChainSupernet()
    module = SinglePathSupernetModule(
        net, UniformSampler(chain_space(net)), epochs=2, lr=0.5, lr_min=0.1, schedule=schedule
    )
    seen = []
    original = module._set_lr

    def spy(opt, batch_idx):
        seen.append(original(opt, batch_idx))
        return seen[-1]

    module._set_lr = spy
    fit(module, epochs=2, n=32, batch=8)  # 4 steps per epoch: t = 0, 0.25, ..., 1.75
    t = np.arange(8) / 4
    if schedule == "cosine":  # NB-201: eta_min + (lr - eta_min)(1 + cos(pi t / T)) / 2
        expected = 0.1 + 0.2 * (1 + np.cos(np.pi * t / 2))
    else:  # SPOS train.py: lr * (1 - step / total_iters)
        expected = 0.5 * (1 - t / 2)
    np.testing.assert_allclose(seen, expected, rtol=1e-12)


def test_spos_weight_decay_groups():
    net = Nb201Supernet(10, mixer=SinglePathMixer, channels=4, cells_per_stage=1)
    space = PathSpace.of(net.mixer, Nb201Arch, ops_of)
    module = SinglePathSupernetModule(
        net, UniformSampler(space), epochs=1, weight_decay=4e-5, decay_all=False
    )
    decay, rest = module.configure_optimizers().param_groups
    assert decay["weight_decay"] == 4e-5 and rest["weight_decay"] == 0.0
    assert all(p.dim() > 1 for p in decay["params"]) and all(p.dim() == 1 for p in rest["params"])
    assert len(decay["params"]) + len(rest["params"]) == len(list(net.parameters()))


def test_rejects_unknown_schedule():
    net = ChainSupernet()
    with pytest.raises(ValueError, match="schedule must be one of"):
        SinglePathSupernetModule(net, UniformSampler(chain_space(net)), epochs=1, schedule="step")
    assert math.isclose(UniformSampler(chain_space(net)).space.size, 27)
