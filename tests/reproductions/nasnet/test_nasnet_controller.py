"""NASNet's controller: 2 x 5B decisions that decode to exactly the cells they encode, the PPO
loss against a hand computation (value and gradient), and a PPO update that moves probability
towards the better-rewarded architecture."""

import math

import numpy as np
import pytest
import torch

from common.controllers.lstm_policy import LstmPolicy
from common.spaces.nasnet import NASNET_SPACE
from common.spaces.nasnet.published import NASNET_A_NORMAL, NASNET_A_REDUCTION
from reproductions.nasnet.controller import (
    PPOTrainer,
    decision_sizes,
    decode,
    encode,
    make_controller,
    ppo_loss,
    uniform_decisions,
)


def test_decision_sizes_follow_sect3() -> None:
    sizes = decision_sizes(5, NASNET_SPACE)
    assert len(sizes) == 2 * 5 * 5  # App. A.2: 2 x 5B softmaxes, B = 5
    assert sizes[:5] == [2, 2, 13, 13, 2] and sizes[20:25] == [6, 6, 13, 13, 2]
    assert sizes[25:] == sizes[:25]  # the reduction cell's decisions repeat the layout


def test_nasnet_a_round_trips_through_decisions() -> None:
    # NASNet-A's released cells output explicit states; the blocks are what the controller picks
    d = encode(NASNET_A_NORMAL, NASNET_A_REDUCTION, NASNET_SPACE)
    normal, reduction = decode(d, 5, NASNET_SPACE)
    assert normal.blocks == NASNET_A_NORMAL.blocks
    assert reduction.blocks == NASNET_A_REDUCTION.blocks
    with pytest.raises(ValueError):
        decode(d[:-1], 5, NASNET_SPACE)


def test_samples_and_uniform_draws_decode_to_valid_cells() -> None:
    policy = make_controller(2, NASNET_SPACE)
    sample = policy.sample(16, generator=torch.Generator().manual_seed(0))
    rand = uniform_decisions(decision_sizes(2, NASNET_SPACE), 16, np.random.default_rng(0))
    for row in [*sample.decisions.tolist(), *rand.tolist()]:
        decode(row, 2, NASNET_SPACE)  # Cell validates every input index and op
    assert all(p.abs().max() <= 0.1 for p in policy.parameters())  # App. A.2 init


def test_entropy_gradient_only_when_asked() -> None:
    kept = make_controller(1, NASNET_SPACE).sample(3).entropy
    assert kept.requires_grad
    default = LstmPolicy(4, [2, 3, 4, 5]).sample(3).entropy  # ENAS's detached bonus unchanged
    assert not default.requires_grad


def test_ppo_loss_against_hand_computation() -> None:
    log_ratio = torch.tensor([0.5, -0.5, 0.1, math.log(0.5)])
    old = torch.tensor([-3.0, -2.0, -1.0, -4.0])
    new = (old + log_ratio).requires_grad_()
    adv = torch.tensor([1.0, 1.0, -2.0, -1.0])
    ent = torch.tensor([1.0, 2.0, 3.0, 4.0])
    loss = ppo_loss(new, old, adv, ent, clip=0.2, entropy_weight=0.1)
    # by hand, eps = 0.2: min(r A, clip(r) A) per sample
    #   r = e^0.5 = 1.6487, A = 1  -> min(1.6487, 1.2)    = 1.2      (clipped)
    #   r = e^-.5 = 0.6065, A = 1  -> min(0.6065, 0.8)    = 0.6065   (not clipped)
    #   r = e^0.1 = 1.1052, A = -2 -> min(-2.2103, -2.2103) = -2.2103
    #   r = 0.5,            A = -1 -> min(-0.5, -0.8)     = -0.8     (clipped)
    # loss = -(1.2 + 0.60653 - 2.21034 - 0.8) / 4 - 0.1 * 2.5 = 0.300952 - 0.25
    assert float(loss.detach()) == pytest.approx(0.0509525, abs=1e-5)
    loss.backward()
    # d loss / d log p = -r A / n where the unclipped term is the minimum, else 0
    expected = torch.tensor([0.0, -math.exp(-0.5) / 4, 2 * math.exp(0.1) / 4, 0.0])
    torch.testing.assert_close(new.grad, expected)


def test_ppo_update_prefers_the_better_architecture() -> None:
    torch.manual_seed(0)
    policy = make_controller(1, NASNET_SPACE)
    trainer = PPOTrainer(policy, lr=0.01, epochs=5)
    decisions = policy.sample(2, generator=torch.Generator().manual_seed(1)).decisions
    assert not torch.equal(decisions[0], decisions[1])
    with torch.no_grad():
        before = policy.evaluate(decisions).log_prob
    stats = trainer.update(decisions, before, [0.9, 0.1])
    with torch.no_grad():
        after = policy.evaluate(decisions).log_prob
    assert after[0] - before[0] > 0 > after[1] - before[1]
    assert stats["baseline"] == pytest.approx(0.5)  # first minibatch's mean (ours)
    assert trainer.baseline == pytest.approx(0.95 * (0.95 * 0.5 + 0.05 * 0.9) + 0.05 * 0.1)
