"""The LSTM policy against hand computations: log-probabilities, entropies and the skip
penalty of fixed samples (closed forms with hand-set weights, and a step-by-step
re-implementation for random weights), and draws that follow the policy's probabilities."""

import math

import pytest
import torch

from common.controllers.lstm_policy import LstmPolicy
from tests.common.controllers.reference import reference

CONFIGS = {
    # AutoDL's NB-201 controller shape (nn.LSTM and nn.Linear with biases), tiny
    "autodl": dict(
        num_decisions=6,
        num_choices=5,
        lstm_size=4,
        lstm_layers=2,
        tanh_constant=2.5,
        temperature=5.0,
        lstm_bias=True,
        softmax_bias=True,
        init="autodl",
    ),
    # ENAS's macro controller (skip attention, sampled-decision entropy), tiny
    "macro": dict(
        num_decisions=4,
        num_choices=6,
        lstm_size=3,
        tanh_constant=1.5,
        skip_attention=True,
        skip_target=0.4,
        entropy="sampled",
    ),
    # NAS-RL style: one softmax and embedding per step, no logit transform
    "per_step": dict(num_decisions=3, num_choices=[2, 3, 4], lstm_size=5),
    # NAS-RL's CNN controller, tiny: 3 layers x (height, width, filters), then an anchor step
    # with sigmoid(q) skip probabilities; 2 LSTM layers with biases
    "nas_rl": dict(
        num_decisions=9,
        num_choices=[4, 4, 3] * 3,
        lstm_size=4,
        lstm_layers=2,
        lstm_bias=True,
        softmax_bias=True,
        skip_attention=True,
        layer_decisions=3,
        skip_form="sigmoid",
        init_range=0.08,
    ),
}


def make(name, seed=0, **kw):
    torch.manual_seed(seed)
    policy = LstmPolicy(**{**CONFIGS[name], **kw}).double()
    for prm in policy.parameters():  # larger weights than the init: the logits must differ
        prm.data.uniform_(-1.0, 1.0)
    return policy


def zero_policy(**kw):
    policy = LstmPolicy(**kw)
    for prm in policy.parameters():
        prm.data.zero_()
    return policy


def test_hand_set_bias_gives_the_hand_log_prob():
    # all weights 0, softmax bias ln(1), ln(2), ln(3): every step is p = (1/6, 2/6, 3/6)
    policy = zero_policy(num_decisions=2, num_choices=3, lstm_size=2, softmax_bias=True)
    policy.soft[0].bias.data = torch.log(torch.tensor([1.0, 2.0, 3.0]))
    out = policy.evaluate(torch.tensor([[2, 0], [1, 1]]))
    expected = [math.log(3 / 6) + math.log(1 / 6), 2 * math.log(2 / 6)]
    torch.testing.assert_close(out.log_prob, torch.tensor(expected))
    p = torch.tensor([1 / 6, 2 / 6, 3 / 6])
    h = float(-(p * p.log()).sum())
    torch.testing.assert_close(out.entropy, torch.tensor([2 * h, 2 * h]))
    assert torch.equal(out.skip_penalty, torch.zeros(2))


def test_tanh_constant_and_temperature_are_applied_in_order():
    policy = zero_policy(
        num_decisions=1,
        num_choices=2,
        lstm_size=2,
        softmax_bias=True,
        tanh_constant=2.5,
        temperature=5.0,
    )
    policy.soft[0].bias.data = torch.tensor([0.0, 4.0])
    z = 2.5 * math.tanh(4.0 / 5.0)  # c * tanh(l / T)
    expected = -math.log1p(math.exp(z))  # log softmax([0, z])[0]
    assert policy.log_prob(torch.tensor([[0]])).item() == pytest.approx(expected, rel=1e-6)


def test_skip_attention_with_zero_weights_gives_the_closed_form():
    # q = 0: every skip bit has p = 1/2, and KL(sigmoid(0) || target) per previous layer
    t = 0.4
    policy = zero_policy(
        num_decisions=3, num_choices=4, lstm_size=2, skip_attention=True, skip_target=t
    )
    # layout: op0 | op1 skip(1 bit) | op2 skip(2 bits)
    row = torch.tensor([[3, 1, 1, 0, 1, 1]])
    out = policy.evaluate(row)
    assert out.log_prob.item() == pytest.approx(3 * math.log(1 / 4) + 3 * math.log(1 / 2))
    kl_bit = 0.5 * math.log(0.5 / (1 - t)) + 0.5 * math.log(0.5 / t)
    # sum over previous layers, mean over layers 1 and 2: (1 + 2) / 2 bits' worth
    assert out.skip_penalty.item() == pytest.approx(1.5 * kl_bit)
    assert out.skip_count.item() == 3


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_log_prob_entropy_and_penalty_match_the_step_by_step_reference(name):
    policy = make(name)
    drawn = policy.sample(5, generator=torch.Generator().manual_seed(1))
    assert drawn.decisions.shape == (5, policy.sequence_length)
    again = policy.evaluate(drawn.decisions)
    for i, row in enumerate(drawn.decisions):
        log_prob, entropy, penalty = reference(policy, row)
        for got in (drawn, again):  # drawing and re-scoring the same sequence agree
            assert got.log_prob[i].item() == pytest.approx(log_prob.item(), abs=1e-10)
            assert got.entropy[i].item() == pytest.approx(entropy.item(), abs=1e-10)
            assert got.skip_penalty[i].item() == pytest.approx(penalty.item(), abs=1e-10)


def test_batched_scoring_is_per_row():
    policy = make("macro")
    rows = policy.sample(4, generator=torch.Generator().manual_seed(3)).decisions
    together = policy.log_prob(rows)
    alone = torch.cat([policy.log_prob(r[None]) for r in rows])
    torch.testing.assert_close(together, alone)


def test_draws_follow_the_policy_probabilities():
    policy = make("per_step", seed=2)
    n = 20000
    drawn = policy.sample(n, generator=torch.Generator().manual_seed(0)).decisions
    seqs, counts = torch.unique(drawn, dim=0, return_counts=True)
    probs = policy.log_prob(seqs).exp()
    assert probs.sum().item() <= 1 + 1e-9
    # every sequence's frequency within 5 binomial standard deviations of its probability
    sd = torch.sqrt(probs * (1 - probs) / n)
    assert ((counts / n - probs).abs() <= 5 * sd + 1e-4).all()


def test_same_generator_seed_same_draws():
    policy = make("autodl")
    a = policy.sample(3, generator=torch.Generator().manual_seed(7)).decisions
    b = policy.sample(3, generator=torch.Generator().manual_seed(7)).decisions
    assert torch.equal(a, b)


def test_layers_of_several_decisions_and_the_sigmoid_anchor_in_closed_form():
    # all weights 0: q = 0, so P(connect) = sigmoid(0) = 1/2 (NAS-RL), each decision uniform;
    # layout: h0 w0 f0 | h1 w1 f1 skip(1) | h2 w2 f2 skip(2)
    policy = zero_policy(**{**CONFIGS["nas_rl"], "lstm_size": 2})
    assert (policy.num_layers, policy.sequence_length) == (3, 12)
    row = torch.tensor([[3, 0, 2, 1, 1, 0, 1, 2, 3, 1, 0, 1]])
    out = policy.evaluate(row)
    assert out.log_prob.item() == pytest.approx(3 * math.log(1 / 48) + 3 * math.log(1 / 2))
    assert out.skip_count.item() == 2


def test_sigmoid_anchor_connects_with_probability_sigmoid_q():
    # NAS-RL: P(j -> i) = sigmoid(q), not ENAS's softmax([-q, q]) = sigmoid(2q); q read off the
    # attention weights for a drawn row (the last decision is layer 1's only skip bit)
    policy = make("nas_rl", num_decisions=6, num_choices=[4, 4, 3] * 2)
    row = policy.sample(1, generator=torch.Generator().manual_seed(0)).decisions
    with torch.no_grad():
        x, state, anchors = policy.g_emb, None, []
        for step in range(6):
            _, state = policy._lstm(x, state)
            x = policy.emb[step](row[:, step])
            if step % 3 == 2:
                h, state = policy._lstm(x, state)
                anchors.append(h)
                x = policy.g_emb
        q = policy.v_attn(torch.tanh(policy.w_attn_1(anchors[0]) + policy.w_attn_2(anchors[1])))
    assert abs(q.item()) > 0.05  # the two forms differ
    ones, zeros = row.clone(), row.clone()
    ones[0, 6], zeros[0, 6] = 1, 0
    p1, p0 = policy.log_prob(ones).exp(), policy.log_prob(zeros).exp()
    assert (p1 / (p1 + p0)).item() == pytest.approx(torch.sigmoid(q).item(), abs=1e-12)


def test_a_shallower_network_is_a_prefix():
    # NAS-RL grows the depth: the first k layers' row and log-probability are a prefix of the
    # full policy's (later layers cannot change earlier decisions or their probabilities)
    policy = make("nas_rl")
    full = policy.sample(4, generator=torch.Generator().manual_seed(5)).decisions
    assert policy.prefix_length(2) == 7 and policy.prefix_length(3) == full.shape[1]
    two = policy.evaluate(full[:, :7], layers=2)
    reference_policy = make("nas_rl", num_decisions=6, num_choices=[4, 4, 3] * 2)
    shared = reference_policy.state_dict().keys()
    reference_policy.load_state_dict({k: v for k, v in policy.state_dict().items() if k in shared})
    torch.testing.assert_close(two.log_prob, reference_policy.log_prob(full[:, :7]))
    short = policy.sample(3, generator=torch.Generator().manual_seed(5), layers=2)
    assert short.decisions.shape == (3, 7)
    with pytest.raises(ValueError):
        policy.sample(1, layers=4)


def test_init_schemes():
    torch.manual_seed(0)
    enas = LstmPolicy(num_decisions=2, num_choices=3, lstm_size=8, skip_attention=True)
    assert all(p.abs().max() <= 0.1 for p in enas.parameters())
    assert not hasattr(enas.lstm, "bias_ih_l0")  # ENAS's LSTM has no bias (common_ops.py L6)
    autodl = LstmPolicy(**CONFIGS["autodl"])
    # layer 1 keeps nn.LSTM's default U(-1/sqrt(H), 1/sqrt(H)) = U(-0.5, 0.5) for H = 4
    assert autodl.lstm.weight_ih_l0.abs().max() <= 0.1
    assert autodl.lstm.weight_ih_l1.abs().max() > 0.1
    nas_rl = LstmPolicy(**CONFIGS["nas_rl"])  # NAS-RL: every weight U(-0.08, 0.08)
    assert all(p.abs().max() <= 0.08 for p in nas_rl.parameters())
    assert nas_rl.lstm.num_layers == 2 and hasattr(nas_rl.lstm, "bias_ih_l0")


def test_rejects_malformed_decisions():
    policy = make("per_step")
    with pytest.raises(ValueError):
        policy.evaluate(torch.tensor([[0, 0]]))
    with pytest.raises(ValueError):
        policy.evaluate(torch.tensor([[0, 3, 0]]))  # step 1 has 3 choices
