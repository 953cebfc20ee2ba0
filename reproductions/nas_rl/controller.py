"""NAS-RL's controller: the shared LSTM policy with the paper's settings, trained by
REINFORCE with an exponential-moving-average baseline (Zoph & Le, ICLR 2017, Sect. 3.1-3.3
and 4.1 "Training details").

- Policy (``common.controllers.lstm_policy.LstmPolicy``): one softmax and one embedding per
  decision (each token has its own classifier, Sect. 3.1), a 2-layer LSTM of 35 units, every
  weight initialised ``U(-0.08, 0.08)`` (Sect. 4.1; secondary: a verbatim quote of the
  paper's training details in third-party notes). With skip connections, each layer's
  decisions are followed by its anchor point: ``P(j -> i) = sigmoid(v . tanh(W_prev h_j +
  W_curr h_i))`` over the earlier anchors ``h_j`` (Sect. 3.3; verified).
- REINFORCE (Sect. 3.2, verified): the gradient of ``mean_k (R_k - b) log P(a_k)`` over the
  ``m`` architectures of one batch; ``b`` an exponential moving average of the previous
  rewards (its decay is not given: 0.95 here, a project choice).
- Adam, learning rate 6e-4 (Sect. 4.1; secondary). Adam's other settings are TensorFlow's
  defaults, which are torch's (betas 0.9 / 0.999, epsilon 1e-8): the paper names none.
- Reward: the child's validation accuracy cubed (``reward_power``; secondary: third-party
  notes only). ``m`` = 8 children per update, the paper's children per controller replica
  (Sect. 4.1; secondary).

The paper's LSTM (TensorFlow) has biases; whether its softmaxes do is not said (kept).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from common.controllers.lstm_policy import LstmPolicy
from common.controllers.reinforce import (
    MovingAverageBaseline,
    controller_adam,
    reinforce_update,
)


class NasRlController:
    """The policy, its optimiser and baseline. ``layer_choices``: choice counts of one layer's
    decisions; ``max_layers``: the deepest network it can emit; ``skip``: anchor points."""

    def __init__(
        self,
        layer_choices: Sequence[int],
        max_layers: int,
        skip: bool = True,
        lstm_size: int = 35,
        lstm_layers: int = 2,
        init_range: float = 0.08,
        lr: float = 6e-4,
        baseline_decay: float = 0.95,
        reward_power: float = 3.0,
        seed: int = 0,
    ) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.policy = LstmPolicy(
                num_decisions=len(layer_choices) * max_layers,
                num_choices=list(layer_choices) * max_layers,
                lstm_size=lstm_size,
                lstm_layers=lstm_layers,
                skip_attention=skip,
                layer_decisions=len(layer_choices),
                skip_form="sigmoid",
                lstm_bias=True,
                softmax_bias=True,
                init="uniform",
                init_range=init_range,
            )
        self.generator = torch.Generator().manual_seed(seed + 1)
        self.optimizer = controller_adam(self.policy, lr, betas=(0.9, 0.999), eps=1e-8)
        self.baseline = MovingAverageBaseline(baseline_decay, initial=None)
        self.reward_power = reward_power
        self.max_layers = max_layers
        self.updates = 0

    def reward_of(self, accuracy_pct: float) -> float:
        """The controller's reward of a child: its accuracy as a fraction, to the power."""
        return (accuracy_pct / 100.0) ** self.reward_power

    def sample(self, n: int, layers: int | None = None) -> torch.Tensor:
        """``n`` rows of the first ``layers`` layers, drawn with the current policy."""
        with torch.no_grad():
            return self.policy.sample(n, self.generator, layers).decisions

    def update(
        self, rows: torch.Tensor, accuracies_pct: Sequence[float], layers: int | None = None
    ) -> dict[str, float]:
        """One REINFORCE step on the batch ``rows`` and their children's accuracies (%)."""
        rewards = [self.reward_of(a) for a in accuracies_pct]
        stats = reinforce_update(
            self.policy, self.optimizer, rows, rewards, self.baseline, layers=layers
        )
        self.updates += 1
        return stats
