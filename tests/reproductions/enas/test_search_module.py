"""ENAS's shared-weight search on NB-201 (``EnasSearchModule``): a child through the shared
supernet is the discrete network with copied weights (ENAS's BN settings); the weight
learning rate follows AutoDL's periodic cosine; one epoch alternates the two phases with the
counts of the config (a fresh child per weight step, ``ctl_train_steps`` controller updates
with the supernet in eval mode); the derivation keeps the first best of its samples."""

from __future__ import annotations

import math
from functools import partial

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from common.spaces.nb201.arch import EDGES, Nb201Arch
from common.spaces.nb201.model import Nb201Cell, Nb201Network
from common.spaces.nb201.ops import ResNetBasicBlock
from common.supernets.mixers import SinglePathMixer
from common.supernets.nb201 import Nb201Supernet
from reproductions.enas.nb201_policy import nb201_policy
from reproductions.enas.search_module import EnasSearchModule, autodl_cosine_lr

ARCH = Nb201Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
)


def supernet(channels=4):
    return Nb201Supernet(
        10,
        mixer=partial(SinglePathMixer),
        channels=channels,
        cells_per_stage=1,
        affine=False,  # ENAS.py L301
        track_running_stats=True,
    )


def loader(n=32, batch=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    data = TensorDataset(
        torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)
    )
    return DataLoader(data, batch_size=batch, shuffle=False)


def module(**kw):
    torch.manual_seed(0)
    hp = dict(ctl_train_steps=3, ctl_num_aggregate=4, epoch_samples=2, derive_samples=5)
    return EnasSearchModule(supernet(), nb201_policy(lstm_size=8), loader(seed=1), **{**hp, **kw})


def test_child_equals_the_discrete_network_with_copied_weights():
    torch.manual_seed(0)
    m = module()
    net = Nb201Network(ARCH, 10, channels=4, cells_per_stage=1)
    c = 4
    for i, layer in enumerate(m.net.cells):
        if isinstance(layer, ResNetBasicBlock):
            net.cells[i].load_state_dict(layer.state_dict())
            c *= 2
            continue
        cell = Nb201Cell(ARCH, c, affine=False)  # the benchmark cell with ENAS's BN
        for e, ((node, inp), op) in enumerate(zip(EDGES, ARCH.ops, strict=True)):
            cell.edges[f"{node}<-{inp}"].load_state_dict(layer.edges[e][op].state_dict())
        net.cells[i] = cell
    for part in ("stem", "lastact", "classifier"):
        getattr(net, part).load_state_dict(getattr(m.net, part).state_dict())
    m.set_child(ARCH)
    x = torch.randn(5, 3, 8, 8)
    for mode in (True, False):
        m.net.train(mode), net.train(mode)
        torch.testing.assert_close(m.net(x), net(x), rtol=0, atol=0)


def test_weight_lr_is_autodls_periodic_cosine():
    lr, lo = 0.05, 5e-4
    seen = {e: autodl_cosine_lr(e, lr, lo, 10) for e in (0, 5, 10, 20, 249)}
    assert seen[0] == pytest.approx(lr) and seen[20] == pytest.approx(lr)
    assert seen[10] == pytest.approx(lo)  # T_max 10: the minimum at epoch 10, back up at 20
    assert seen[5] == pytest.approx(lo + (lr - lo) / 2)
    assert seen[249] == pytest.approx(lo + (lr - lo) * (1 + math.cos(math.pi * 249 / 10)) / 2)


def test_one_epoch_alternates_the_phases_with_the_configured_counts(monkeypatch):
    m = module(probe_samples=50)
    children, modes, updates = [], [], []
    set_child = m.set_child

    def spy_set_child(row):
        arch = set_child(row)
        children.append(arch)
        modes.append(m.net.training)
        return arch

    monkeypatch.setattr(m, "set_child", spy_set_child)
    import reproductions.enas.search_module as sm

    real_update = sm.reinforce_update

    def spy_update(policy, opt, rows, accs, *a, **k):
        updates.append((len(rows), list(accs)))
        return real_update(policy, opt, rows, accs, *a, **k)

    monkeypatch.setattr(sm, "reinforce_update", spy_update)
    before = [p.detach().clone() for p in m.controller.parameters()]
    trainer = L.Trainer(
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(m, train_dataloaders=loader())
    n_train = 4  # 32 images / batch 8
    train_modes = modes[:n_train]
    ctl_modes = modes[n_train : n_train + 3 * 4]
    assert all(train_modes) and not any(ctl_modes)  # supernet in eval mode for the controller
    assert len(updates) == 3 and all(n == 4 for n, _ in updates)
    assert all(0 <= a <= 1 for _, accs in updates for a in accs)  # rewards are fractions
    assert any(not torch.equal(a, b) for a, b in zip(before, m.controller.parameters()))
    # training steps, controller children, the epoch's pick (2), the derivation (5)
    assert len(children) == n_train + 12 + 2 + 5
    (entry,) = m.history
    assert 0 <= entry["param_free_share"] <= 1
    assert sum(entry["op_shares"].values()) == pytest.approx(1.0)
    assert 0 < entry["policy_entropy"] <= 6 * math.log(5) + 1e-6
    assert isinstance(m.final["arch"], Nb201Arch)
    assert m.net.training


def test_derivation_keeps_the_first_best_sample(monkeypatch):
    m = module()
    rows = torch.tensor([[0] * 6, [3] * 6, [1] * 6, [3] * 6])
    monkeypatch.setattr(m, "draw", lambda n: rows[:n])
    score = {0: 10.0, 3: 50.0, 1: 20.0}
    monkeypatch.setattr(m, "child_accuracy", lambda arch, batch: score[arch.op_indices[0]])
    arch, acc, scored = m.best_of(4, iter(loader()))
    assert arch.op_indices == (3,) * 6 and acc == 50.0 and len(scored) == 4
