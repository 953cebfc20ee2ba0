"""MetaQNN's Q-learning agent (Baker et al., ICLR 2017, Sect. 3 Eq. 3, Sect. 4.3, Table 2).

- Q-values start at 0.5 (App. D.1; ``init_utility = 0.5`` in state_space_parameters.py).
- Eq. 3: Q(s, u) <- (1 - alpha) Q(s, u) + alpha [r + gamma max_u' Q(s', u')], alpha = 0.01,
  gamma = 1 (Sect. 4.3). The reward is the network's validation accuracy, given on the last
  transition (into SM) and 0 on every other; a terminal state has no successor, so its max is 0
  (libs/grammar/q_learner.py ``update_q_value_sequence``).
- A path is updated in temporally reversed order, so the accuracy reaches the first layer in
  one pass (Sect. 4.3, after Lin 1993).
- Epsilon-greedy: a uniform random action with probability epsilon, else a greedy one, ties
  broken uniformly (q_learner.py ``_transition_q_learning``). At epsilon = 1 this is the
  paper's "random walk along a uniformly weighted Markov chain".
- Experience replay: after each sampled model, ``replay`` models drawn uniformly, with
  replacement, from the replay list (every sample so far, a model sampled twice listed twice)
  are each updated along their whole path. The paper says 100 (Sect. 4.3); the released
  code's ``replay_number`` is 128.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import numpy as np

from reproductions.metaqnn.space import Arch, Layer, MetaQNNSpace, State


def q_update(
    q: dict[Hashable, dict[Hashable, float]],
    path: Sequence[Hashable],
    moves: Sequence[Hashable],
    reward: float,
    actions: Callable[[Hashable], Sequence[Hashable]],
    alpha: float,
    gamma: float,
    q_init: float,
) -> None:
    """Eq. 3 along one path, last transition first. ``path`` = [s_0, ..., s_T] (s_T terminal),
    ``moves[t]`` = the action from s_t to s_{t+1}; ``actions(s)`` lists the actions of s
    (empty for a terminal state), whose Q-values start at ``q_init``."""

    def row(s: Hashable) -> dict[Hashable, float]:
        if s not in q:
            q[s] = {a: q_init for a in actions(s)}
        return q[s]

    last = len(path) - 2
    for t in range(last, -1, -1):
        nxt = row(path[t + 1])
        future = max(nxt.values()) if nxt else 0.0
        r = reward if t == last else 0.0
        values = row(path[t])
        values[moves[t]] += alpha * (r + gamma * future - values[moves[t]])


class QLearner:
    """The agent over a ``MetaQNNSpace``: samples networks epsilon-greedily and learns from a
    replay list of (network, reward) pairs. ``rng`` is the only source of randomness."""

    def __init__(
        self,
        space: MetaQNNSpace,
        rng: np.random.Generator,
        alpha: float = 0.01,
        gamma: float = 1.0,
        q_init: float = 0.5,
        replay: int = 100,
    ) -> None:
        self.space = space
        self.rng = rng
        self.alpha = alpha
        self.gamma = gamma
        self.q_init = q_init
        self.replay = replay
        self.q: dict[State, dict[Layer, float]] = {}
        self.memory: list[tuple[Arch, float]] = []

    def values(self, state: State) -> dict[Layer, float]:
        if state not in self.q:
            self.q[state] = {a: self.q_init for a in self.space.actions(state)}
        return self.q[state]

    def sample(self, epsilon: float) -> Arch:
        """One network, epsilon-greedily from the start state to SM."""
        state, size = self.space.start(), self.space.image_size
        layers = []
        while not state.terminal:
            values = self.values(state)
            actions = list(values)
            if self.rng.random() < epsilon:
                layer = actions[self.rng.integers(len(actions))]
            else:
                best = max(values.values())
                greedy = [a for a in actions if values[a] == best]
                layer = greedy[self.rng.integers(len(greedy))]
            state, size = self.space.step(state, size, layer)
            layers.append(layer)
        return Arch(layers)

    def learn(self, arch: Arch, reward: float) -> None:
        """Eq. 3 along the path of ``arch`` with terminal reward ``reward``."""
        q_update(
            self.q,
            self.space.states(arch),
            list(arch),
            reward,
            lambda s: self.space.actions(s),
            self.alpha,
            self.gamma,
            self.q_init,
        )

    def remember(self, arch: Arch, reward: float) -> None:
        """Add a sampled model to the replay list, then replay ``replay`` random entries."""
        self.memory.append((arch, reward))
        for i in self.rng.integers(len(self.memory), size=self.replay):
            self.learn(*self.memory[i])
