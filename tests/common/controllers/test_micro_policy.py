"""ENAS's micro controller (common/controllers/micro_policy.py) against a step-by-step
re-computation of micro_controller.py's sampler (melodyguan/enas @4bcfd73 L116-229)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from common.controllers.micro_policy import MicroLstmPolicy, split_arc
from common.controllers.reinforce import MovingAverageBaseline, controller_adam, reinforce_update


def reference_log_prob(policy: MicroLstmPolicy, row: list[int]) -> tuple[float, float]:
    """Log-probability and entropy of one decision row, written as the official loop reads:
    one LSTM step per decision, anchors, attention over them, the op bias in the normal cell."""
    arcs = split_arc(row, policy.num_cells)
    lstm, state = policy.lstm, None

    def step(x):
        nonlocal state
        y, state = lstm(x[None], state)
        return y[0]

    lp = ent = 0.0
    for cell, arc in arcs.items():
        x = policy.g_emb
        anchors, keys = [], []
        for _ in range(2):
            h = step(x)
            anchors.append(torch.zeros_like(h))
            keys.append(h @ policy.w_attn_1.weight.T)
        for x_id, x_op, y_id, y_op in arc:
            for idx in (x_id, y_id):
                h = step(x)
                q = (
                    torch.tanh(torch.cat(keys) + h @ policy.w_attn_2.weight.T)
                    @ policy.v_attn.weight.T
                )
                logits = policy.tanh_constant * torch.tanh(q.T)
                logp = F.log_softmax(logits, -1)
                lp += float(logp[0, idx].detach())
                ent += float(-(logp.exp() * logp).sum())
                x = anchors[idx]
            for op in (x_op, y_op):
                h = step(x)
                raw = h @ policy.soft[0].weight.T + policy.soft[0].bias
                logits = policy.tanh_constant / policy.op_tanh_reduce * torch.tanh(raw)
                if cell == "normal":
                    logits = logits + torch.tensor([0.25, 0.25, -0.25, -0.25, -0.25])
                logp = F.log_softmax(logits, -1)
                lp += float(logp[0, op].detach())
                ent += float(-(logp.exp() * logp).sum())
                x = policy.emb[0].weight[op][None]
            h = step(x)
            anchors.append(h)
            keys.append(h @ policy.w_attn_1.weight.T)
            x = policy.g_emb
    return lp, ent


def test_log_prob_and_entropy_match_the_reference() -> None:
    torch.manual_seed(0)
    policy = MicroLstmPolicy()
    drawn = policy.sample(2)
    for k, row in enumerate(drawn.decisions.tolist()):
        lp, ent = reference_log_prob(policy, row)
        assert abs(float(drawn.log_prob[k]) - lp) < 1e-4
        assert abs(float(drawn.entropy[k]) - ent) < 1e-4
    again = policy.evaluate(drawn.decisions)
    torch.testing.assert_close(again.log_prob, drawn.log_prob)


def test_official_fixed_arc_scores_and_decisions_in_range() -> None:
    policy = MicroLstmPolicy()
    arc = "0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1 1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1"
    row = [int(v) for v in arc.split()]
    lp, _ = reference_log_prob(policy, row)
    assert abs(float(policy.log_prob(torch.tensor([row]))[0]) - lp) < 1e-4
    rows = policy.sample(200).decisions
    for cell in split_arc(rows[0]).values():
        assert len(cell) == 5
    for r in rows.tolist():
        for cell in split_arc(r).values():
            for node, (x_id, x_op, y_id, y_op) in enumerate(cell):
                assert 0 <= x_id < 2 + node and 0 <= y_id < 2 + node
                assert 0 <= x_op < 5 and 0 <= y_op < 5


def test_op_bias_favours_separable_convs_in_the_normal_cell() -> None:
    """b_soft starts at [10, 10, 0, 0, 0] (L100-104) and the normal cell adds
    [0.25, 0.25, -0.25, ...] (L106-109): convs are drawn more often, more so in normal cells."""
    torch.manual_seed(1)
    rows = MicroLstmPolicy().sample(2000).decisions
    ops_normal, ops_reduce = rows[:, 1:20:2], rows[:, 21::2]
    conv_normal = (ops_normal < 2).float().mean()
    conv_reduce = (ops_reduce < 2).float().mean()
    assert conv_reduce > 0.4 + 0.02  # uniform would be 0.4
    assert conv_normal > conv_reduce + 0.1


def test_reinforce_gradient_on_the_micro_policy() -> None:
    """One update's gradient equals autograd of -(R - b) log p averaged over the children."""
    torch.manual_seed(2)
    policy = MicroLstmPolicy()
    rows = policy.sample(3).decisions
    accs = [0.3, 0.6, 0.9]
    ev = policy.evaluate(rows)
    b, advs = 0.0, []
    for acc, e in zip(accs, ev.entropy.tolist(), strict=True):
        r = acc + 1e-4 * e
        b = b - 0.01 * (b - r)
        advs.append(r - b)
    ref = -(ev.log_prob * torch.tensor(advs)).mean()
    grads = torch.autograd.grad(ref, list(policy.parameters()), allow_unused=True)
    opt = controller_adam(policy, 1e-3)
    reinforce_update(policy, opt, rows, accs, MovingAverageBaseline(0.99), 1e-4)
    for g, p in zip(grads, policy.parameters(), strict=True):
        if g is None:
            assert p.grad is None or not p.grad.any()
        else:
            torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-7)
