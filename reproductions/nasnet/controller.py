"""NASNet's controller (Zoph et al., CVPR 2018, Sect. 3, App. A.2) and its PPO update.

The controller is the NAS-RL LSTM (``common.controllers.LstmPolicy``) making 2 x 5B
decisions: for each of the B blocks of the normal cell, then of the reduction cell, Sect. 3's
five steps (first input, second input, op on the first, op on the second, combination), each
from its own softmax. Block b reads one of 2 + b hidden states (h_{c-1}, h_{c-2}, the earlier
blocks; numbered as ``common.spaces.nasnet.cell``), so its two input softmaxes have 2 + b
classes. Verified in the paper (App. A.2, A.3): one LSTM layer of 100 units, weights
U(-0.1, 0.1), PPO with learning rate 0.00035, an entropy term of weight 0.00001 "to
encourage exploration", an exponential-moving-average baseline with weight 0.95, minibatches
of 20 architectures, reward = the child's held-out validation accuracy.

Not in the paper (marked ``unverified`` in the configs): PPO's clip range (0.2, the PPO paper's
default, Schulman et al. 2017 Sect. 6), the number of gradient passes over each minibatch,
the optimiser (Adam), and the baseline's first value (the first minibatch's mean reward).

PPO for a one-step episode (a whole architecture is one action with probability
p(a) = prod of its 10B softmax probabilities)::

    ratio = p_new(a) / p_old(a),   A = R - b
    loss  = -mean(min(ratio A, clip(ratio, 1 - eps, 1 + eps) A)) - entropy_weight * mean(H)

with b the baseline before the minibatch; then b <- 0.95 b + 0.05 R for each reward in order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from common.controllers.lstm_policy import LstmPolicy
from common.spaces.nasnet.cell import NUM_INPUTS, Block, Cell, Space

STEPS_PER_BLOCK = 5  # Sect. 3 steps 1-5


def decision_sizes(num_blocks: int, space: Space) -> list[int]:
    """Softmax sizes of the 2 x 5B decisions, normal cell first."""
    per_cell = []
    for b in range(num_blocks):
        states = NUM_INPUTS + b
        per_cell += [states, states, len(space.ops), len(space.ops), len(space.combines)]
    return per_cell * 2


def decode(decisions: Sequence[int], num_blocks: int, space: Space) -> tuple[Cell, Cell]:
    """(normal, reduction) cells of one row of decisions."""
    d = [int(x) for x in decisions]
    if len(d) != 2 * STEPS_PER_BLOCK * num_blocks:
        raise ValueError(f"{len(d)} decisions for 2 cells of {num_blocks} blocks")
    cells = []
    for c in range(2):
        blocks = []
        for b in range(num_blocks):
            i = (c * num_blocks + b) * STEPS_PER_BLOCK
            in_a, in_b, op_a, op_b, comb = d[i : i + STEPS_PER_BLOCK]
            blocks.append(Block(in_a, space.ops[op_a], in_b, space.ops[op_b], space.combines[comb]))
        cells.append(Cell(tuple(blocks), space=space.name))
    return cells[0], cells[1]


def encode(normal: Cell, reduction: Cell, space: Space) -> list[int]:
    """The decisions that ``decode`` maps back to these cells (blocks as written)."""
    out = []
    for cell in (normal, reduction):
        for b in cell.blocks:
            out += [b.in_a, b.in_b, space.ops.index(b.op_a), space.ops.index(b.op_b)]
            out.append(space.combines.index(b.combine))
    return out


def uniform_decisions(sizes: Sequence[int], n: int, rng: np.random.Generator) -> np.ndarray:
    """Random search (Sect. 3): every decision uniform over its choices."""
    return np.stack([rng.integers(k, size=n) for k in sizes], axis=1)


def make_controller(num_blocks: int, space: Space, lstm_size: int = 100) -> LstmPolicy:
    """App. A.2: one LSTM layer, 100 units, every weight U(-0.1, 0.1), one softmax per step."""
    return LstmPolicy(
        2 * STEPS_PER_BLOCK * num_blocks,
        decision_sizes(num_blocks, space),
        lstm_size=lstm_size,
        lstm_layers=1,
        init="uniform",
        entropy="full",
        entropy_grad=True,
    )


def ppo_loss(
    log_prob: torch.Tensor,
    old_log_prob: torch.Tensor,
    advantage: torch.Tensor,
    entropy: torch.Tensor,
    clip: float,
    entropy_weight: float,
) -> torch.Tensor:
    """The clipped surrogate (Schulman et al. 2017, Eq. 7), negated, minus the entropy bonus."""
    ratio = torch.exp(log_prob - old_log_prob)
    surrogate = torch.minimum(ratio * advantage, ratio.clamp(1 - clip, 1 + clip) * advantage)
    return -surrogate.mean() - entropy_weight * entropy.mean()


class PPOTrainer:
    """PPO updates of a controller from minibatches of (decisions, rewards)."""

    def __init__(
        self,
        policy: LstmPolicy,
        lr: float = 0.00035,
        clip: float = 0.2,
        entropy_weight: float = 1e-5,
        baseline_decay: float = 0.95,
        epochs: int = 10,
    ) -> None:
        self.policy = policy
        self.clip, self.entropy_weight = clip, entropy_weight
        self.decay, self.epochs = baseline_decay, epochs
        self.optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
        self.baseline: float | None = None

    def update(
        self, decisions: torch.Tensor, old_log_prob: torch.Tensor, rewards: Sequence[float]
    ) -> dict[str, float]:
        """``epochs`` full-batch steps on the clipped surrogate; rewards are fractions."""
        r = torch.as_tensor(list(rewards), dtype=torch.float32)
        if self.baseline is None:
            self.baseline = float(r.mean())
        advantage = r - self.baseline
        old = old_log_prob.detach()
        losses = []
        for _ in range(self.epochs):
            out = self.policy.evaluate(decisions)
            loss = ppo_loss(
                out.log_prob, old, advantage, out.entropy, self.clip, self.entropy_weight
            )
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(float(loss.detach()))
        before = self.baseline
        for x in r.tolist():
            self.baseline = self.decay * self.baseline + (1 - self.decay) * x
        with torch.no_grad():
            ratio = torch.exp(self.policy.evaluate(decisions).log_prob - old)
        return {
            "loss_first": losses[0],
            "loss_last": losses[-1],
            "baseline": before,
            "mean_advantage": float(advantage.mean()),
            "ratio_max": float(ratio.max()),
            "ratio_min": float(ratio.min()),
        }
