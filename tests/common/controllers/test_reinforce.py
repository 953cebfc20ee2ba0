"""The controller's REINFORCE update against references: the gradient (baseline, entropy
bonus, skip penalty) against autograd through the step-by-step re-implementation on a
hand-set batch of rewards; the estimator's mean against the exact gradient of the expected
reward; the moving-average baseline by hand; ENAS's Adam settings."""

import pytest
import torch

from common.controllers.lstm_policy import LstmPolicy
from common.controllers.reinforce import (
    MovingAverageBaseline,
    controller_adam,
    reinforce_loss,
    reinforce_update,
)
from tests.common.controllers.reference import reference


def test_baseline_by_hand():
    b = MovingAverageBaseline(0.9)  # ENAS: starts at 0, b <- b - (1 - decay) (b - R)
    assert b.update(1.0) == pytest.approx(0.1)
    assert b.update(2.0) == pytest.approx(0.1 - 0.1 * (0.1 - 2.0))
    assert b.value == pytest.approx(0.29)


def test_autodl_baseline_holds_within_an_epoch():
    b = MovingAverageBaseline(0.9, initial=None, hold_within_epoch=True)
    # epoch 0: no baseline yet, each step's baseline is its own accuracy (ENAS.py L145-146)
    assert b.update(0.55, first=0.5) == 0.5
    assert b.update(0.75, first=0.7) == 0.7
    assert b.value is None
    b.end_epoch()
    assert b.value == 0.7
    # epoch 1: every step moves from 0.7, not from the previous step
    assert b.update(0.8) == pytest.approx(0.7 - 0.1 * (0.7 - 0.8))
    assert b.update(1.0) == pytest.approx(0.7 - 0.1 * (0.7 - 1.0))
    b.end_epoch()
    assert b.value == pytest.approx(0.73)


@pytest.mark.parametrize("skip", [False, True])
def test_gradient_matches_autograd_reference(skip):
    torch.manual_seed(0)
    kw = dict(skip_attention=True, entropy="sampled") if skip else dict(lstm_bias=True)
    policy = LstmPolicy(
        num_decisions=4,
        num_choices=5,
        lstm_size=4,
        lstm_layers=2 - skip,
        tanh_constant=2.5,
        temperature=5.0,
        **kw,
    ).double()
    for prm in policy.parameters():
        prm.data.uniform_(-1.0, 1.0)
    rows = policy.sample(4, generator=torch.Generator().manual_seed(5)).decisions
    accs = [0.30, 0.55, 0.20, 0.65]  # hand-set rewards
    w_ent, decay, b0, w_skip = 0.1, 0.9, 0.25, 0.8

    # reference: rewards, baselines and the surrogate loss written out; autograd gives the grad
    refs = [reference(policy, r) for r in rows]
    b, loss = b0, 0.0
    for acc, (log_prob, entropy, penalty) in zip(accs, refs, strict=True):
        reward = acc + w_ent * float(entropy)
        b = b - (1 - decay) * (b - reward)
        loss = loss + (-(reward - b) * log_prob + w_skip * skip * penalty) / len(accs)
    expected = torch.autograd.grad(loss, list(policy.parameters()), allow_unused=True)

    frozen = torch.optim.SGD(policy.parameters(), lr=0.0)  # leaves the gradient in .grad
    out = reinforce_update(
        policy, frozen, rows, accs, MovingAverageBaseline(decay, b0), w_ent, w_skip * skip
    )
    for prm, exp in zip(policy.parameters(), expected, strict=True):
        torch.testing.assert_close(prm.grad, torch.zeros_like(prm) if exp is None else exp)
    assert out["baseline"] == pytest.approx(b)
    assert any(p.grad.abs().max() > 1e-3 for p in policy.parameters())


def test_estimator_mean_is_the_gradient_of_the_expected_reward():
    """E[(R - b) grad log p] = grad sum_a p(a) R(a) for any constant b: the exact gradient by
    enumerating all 9 sequences of a 2-step, 3-choice policy, against 60,000 samples."""
    torch.manual_seed(1)
    policy = LstmPolicy(num_decisions=2, num_choices=3, lstm_size=3, tanh_constant=2.5).double()
    for prm in policy.parameters():
        prm.data.uniform_(-1.0, 1.0)
    table = torch.tensor([[0.1, 0.9, 0.3], [0.5, 0.2, 0.8], [0.0, 0.6, 0.4]], dtype=torch.float64)
    grid = torch.cartesian_prod(torch.arange(3), torch.arange(3))
    exact = torch.autograd.grad(
        (policy.log_prob(grid).exp() * table[grid[:, 0], grid[:, 1]]).sum(),
        list(policy.parameters()),
    )
    drawn = policy.sample(60000, generator=torch.Generator().manual_seed(2))
    rewards = table[drawn.decisions[:, 0], drawn.decisions[:, 1]]
    loss = reinforce_loss(policy.evaluate(drawn.decisions), rewards - 0.45)
    estimate = torch.autograd.grad(-loss, list(policy.parameters()))
    flat_exact = torch.cat([g.flatten() for g in exact])
    flat_est = torch.cat([g.flatten() for g in estimate])
    assert torch.linalg.norm(flat_est - flat_exact) < 0.1 * torch.linalg.norm(flat_exact)


def test_update_moves_probability_towards_the_better_sample():
    torch.manual_seed(0)
    policy = LstmPolicy(num_decisions=1, num_choices=2, lstm_size=2)
    opt = controller_adam(policy, lr=0.05)
    rows = torch.tensor([[0], [1]])
    before = policy.log_prob(rows).exp()
    reinforce_update(policy, opt, rows, [0.9, 0.1], MovingAverageBaseline(0.99, 0.5))
    after = policy.log_prob(rows).exp()
    assert after[0] > before[0] and after[1] < before[1]


def test_adam_has_enas_settings():
    opt = controller_adam(LstmPolicy(num_decisions=1, num_choices=2, lstm_size=2), lr=1e-3)
    group = opt.param_groups[0]
    assert group["betas"] == (0.0, 0.999) and group["eps"] == 1e-3 and group["lr"] == 1e-3
