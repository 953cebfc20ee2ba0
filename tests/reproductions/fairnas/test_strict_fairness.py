"""FairNAS's strict fairness (Fig. 2): each step trains m paths that use every choice of every
position exactly once, their gradients summed into ONE update -- checked against autograd."""

from __future__ import annotations

import copy
import random

import lightning as L
import pytest
import torch

from common.spaces.nb201.arch import OPS, Nb201Arch
from common.supernets.mixers import SinglePathMixer
from common.supernets.nb201 import Nb201Supernet
from common.training.single_path import PathSpace, SinglePathSupernetModule, ops_of
from reproductions.fairnas.sampling import StrictFairSampler
from tests.common.training.chain import ChainSupernet, chain_space, loader, path_grads


def fit(module, epochs=1, batches=None, data=None):
    trainer = L.Trainer(
        max_epochs=epochs,
        limit_train_batches=batches,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(module, data if data is not None else loader())


def test_every_choice_of_every_position_once_per_step():
    space = chain_space(ChainSupernet(layers=6))
    sampler, rng = StrictFairSampler(space), random.Random(0)
    firsts = set()
    for _ in range(200):
        paths = sampler.sample(rng)
        assert len(paths) == 3  # m = number of choices
        for pos in range(6):
            assert sorted(p[pos] for p in paths) == ["a", "b", "c"]
        firsts.add(paths[0])
    assert len(firsts) > 100  # the permutations are random, not a fixed rotation


def tiny_nb201() -> tuple[Nb201Supernet, PathSpace]:
    torch.manual_seed(0)
    net = Nb201Supernet(4, mixer=SinglePathMixer, channels=4, cells_per_stage=1, affine=False)
    return net, PathSpace.of(net.mixer, Nb201Arch, ops_of)


def image_loader():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 4, (8,), generator=g)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8), (x, y)


@pytest.mark.parametrize("space_name", ["chain", "nb201"])
def test_one_step_is_the_sum_of_the_paths_gradients_applied_once(space_name):
    if space_name == "chain":
        torch.manual_seed(0)
        net = ChainSupernet()
        space = chain_space(net)
        data = loader(n=8, batch=8)
        x, y = next(iter(data))
    else:
        net, space = tiny_nb201()
        data, (x, y) = image_loader()
    m = len(space.choices)
    reference = copy.deepcopy(net)
    lr = 0.1
    module = SinglePathSupernetModule(
        net, StrictFairSampler(space), epochs=1, lr=lr, momentum=0.0, lr_per_step=False, seed=5
    )
    fit(module, batches=1, data=data)
    assert module.updates == 1 and module.path_steps == m and len(module.last_paths) == m
    # every choice of every position trained exactly once
    assert torch.equal(module.choice_counts, torch.ones(len(space.positions), m, dtype=torch.long))
    # the weights moved by -lr times the sum of the m paths' gradients (autograd, path by path)
    grads = path_grads(reference, space, module.last_paths, x, y)
    for (name, p), (_, p0) in zip(
        net.named_parameters(), reference.named_parameters(), strict=True
    ):
        torch.testing.assert_close(p.detach(), p0.detach() - lr * grads[name], rtol=1e-5, atol=1e-6)


def test_one_update_sets_momentum_to_the_summed_gradient():
    torch.manual_seed(0)
    net = ChainSupernet()
    space = chain_space(net)
    reference = copy.deepcopy(net)
    data = loader(n=8, batch=8)
    module = SinglePathSupernetModule(net, StrictFairSampler(space), epochs=1, momentum=0.9)
    fit(module, batches=1, data=data)
    opt = module.trainer.optimizers[0]
    grads = path_grads(reference, space, module.last_paths, *next(iter(data)))
    for name, p in net.named_parameters():  # one SGD step: buffer = gradient (not m steps' worth)
        torch.testing.assert_close(opt.state[p]["momentum_buffer"], grads[name])


def test_fair_at_every_step_of_an_epoch():
    net = ChainSupernet(layers=4)
    module = SinglePathSupernetModule(net, StrictFairSampler(chain_space(net)), epochs=2)
    fit(module, epochs=2, data=loader(n=40, batch=8))  # 5 steps per epoch
    assert torch.equal(module.choice_counts, torch.full((4, 3), 10, dtype=torch.long))
    assert [h["choice_spread_epoch"] for h in module.history] == [0, 0]
    assert module.updates == 10 and module.path_steps == 30


def test_nb201_step_trains_all_five_ops_of_each_edge():
    net, space = tiny_nb201()
    module = SinglePathSupernetModule(net, StrictFairSampler(space), epochs=1)
    fit(module, batches=1, data=image_loader()[0])
    table = module.counts_table()
    assert set(table) == {f"cell/{e}" for e in range(6)}
    assert all(counts == dict.fromkeys(OPS, 1) for counts in table.values())
