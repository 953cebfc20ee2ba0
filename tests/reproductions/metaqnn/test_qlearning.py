"""MetaQNN's Q-learning (Sect. 3 Eq. 3, Sect. 4.3) against hand computations."""

import numpy as np
import pytest

from reproductions.metaqnn.qlearning import QLearner, q_update
from reproductions.metaqnn.space import Arch, MetaQNNSpace


def chain_actions(state):
    """A 3-state toy chain s0 -> s1 -> s2 -> T (terminal); s1 may also jump to T."""
    return {"s0": ["a"], "s1": ["b", "end"], "s2": ["c"], "T": []}[state]


def test_update_on_a_three_state_chain_matches_the_hand_computation():
    q = {}
    q_update(q, ["s0", "s1", "s2", "T"], ["a", "b", "c"], 0.8, chain_actions, 0.01, 1.0, 0.5)
    # reversed order: Q(s2,c) = 0.5 + 0.01 (0.8 + 0 - 0.5) = 0.503
    assert q["s2"]["c"] == pytest.approx(0.503)
    # Q(s1,b) = 0.5 + 0.01 (0 + max Q(s2,.) - 0.5) = 0.5 + 0.01 * 0.003 = 0.50003
    assert q["s1"]["b"] == pytest.approx(0.50003)
    assert q["s1"]["end"] == 0.5  # untouched
    # Q(s0,a) = 0.5 + 0.01 (max(0.50003, 0.5) - 0.5) = 0.5000003
    assert q["s0"]["a"] == pytest.approx(0.5000003)
    # a second pass, reward 0.2 through s1 -> T: Q(s1,end) = 0.5 + 0.01 (0.2 - 0.5) = 0.497;
    # then Q(s0,a) moves towards max(Q(s1,b), Q(s1,end)) = 0.50003
    q_update(q, ["s0", "s1", "T"], ["a", "end"], 0.2, chain_actions, 0.01, 1.0, 0.5)
    assert q["s1"]["end"] == pytest.approx(0.497)
    assert q["s0"]["a"] == pytest.approx(0.5000003 + 0.01 * (0.50003 - 0.5000003))


def test_discount_scales_the_bootstrapped_value():
    q = {}
    q_update(q, ["s0", "s1", "T"], ["a", "end"], 1.0, chain_actions, 0.5, 0.5, 0.0)
    assert q["s1"]["end"] == pytest.approx(0.5)  # 0 + 0.5 (1 - 0)
    assert q["s0"]["a"] == pytest.approx(0.5 * 0.5 * 0.5)  # 0 + 0.5 (0 + 0.5 * 0.5 - 0)


SMALL = MetaQNNSpace(image_size=8, max_depth=3, conv_filters=(4, 8), fc_sizes=(16,))


def test_greedy_sampling_follows_the_best_q_values():
    agent = QLearner(SMALL, np.random.default_rng(0))
    target = Arch.parse("[C(8,3,1), P(2,2), FC(16), SM(10)]")
    for _ in range(2000):  # a big learning signal on one path, none elsewhere
        agent.learn(target, 1.0)
    assert all(agent.sample(0.0) == target for _ in range(5))
    assert len({str(agent.sample(1.0)) for _ in range(50)}) > 10  # epsilon 1: a random walk


def test_remember_replays_the_paper_number_of_paths():
    agent = QLearner(SMALL, np.random.default_rng(0), replay=100)
    arch = Arch.parse("[C(4,1,1), SM(10)]")
    agent.remember(arch, 1.0)
    # 100 replays of one path: Q(C -> SM) = 1 - 0.5 * 0.99^100
    q_end = agent.q[SMALL.states(arch)[1]][arch[-1]]
    assert q_end == pytest.approx(1 - 0.5 * 0.99**100)
    assert len(agent.memory) == 1
