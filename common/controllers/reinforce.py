"""REINFORCE for an ``LstmPolicy`` as ENAS trains its controller (Pham et al., ICML 2018,
Sect. 2.2; Williams, 1992): reward plus an entropy bonus, a moving-average baseline, the
log-likelihood gradient averaged over ``num_aggregate`` samples, then one Adam step.

Official code: melodyguan/enas @4bcfd73 ``src/cifar10/general_controller.py``
``build_trainer`` L270-292 (``micro_controller.py`` L231-248 is the same without the skip
penalty) and ``src/utils.py`` L217-218 (Adam, beta1 0, epsilon 1e-3); the NB-201
re-implementation: D-X-Y/AutoDL-Projects @f46486e ``exps/NAS-Bench-201-algos/ENAS.py``
``train_controller`` L138-172.

For one sample with validation accuracy ``acc`` (a fraction), entropy ``H`` and summed
log-probability ``log p``::

    R = acc + entropy_weight * H          (the bonus is a constant: no gradient through H)
    b <- b - (1 - decay) * (b - R)        (updated before use, as both codes do)
    loss = -log p * (R - b) + skip_weight * skip_penalty

and the gradient of the mean loss over the aggregated samples is applied (ENAS: sync
replicas aggregating ``num_aggregate`` gradients; AutoDL: ``loss / ctl_num_aggre``
accumulated). ``grad_clip`` is AutoDL's norm clip (5); ENAS passes no clip to the controller.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from common.controllers.lstm_policy import LstmPolicy, PolicySample


class MovingAverageBaseline:
    """``b <- b - (1 - decay) * (b - reward)`` (general_controller.py L283-285).

    ``initial``: ENAS starts at 0.0 (L283); ``None`` starts at the first sample's accuracy
    (AutoDL ENAS.py L145-146: ``baseline = val_top1`` while no baseline exists).
    ``hold_within_epoch`` is AutoDL's variant: every step of an epoch updates from the value
    the epoch started with (``config.baseline`` is not written inside ``train_controller``),
    and only the epoch's last step's value is carried over (``end_epoch``; L199, L403-418).
    """

    def __init__(
        self, decay: float, initial: float | None = 0.0, hold_within_epoch: bool = False
    ) -> None:
        self.decay, self.value, self.hold = decay, initial, hold_within_epoch
        self._last: float | None = None

    def update(self, reward: float, first: float | None = None) -> float:
        """The baseline for this ``reward`` (``first``: the value used while there is none)."""
        prev = self.value
        if prev is None:
            new = reward if first is None else first
        else:
            new = prev - (1.0 - self.decay) * (prev - reward)
        if self.hold:
            self._last = new
        else:
            self.value = new
        return new

    def end_epoch(self) -> None:
        if self.hold and self._last is not None:
            self.value = self._last


def reinforce_loss(
    sample: PolicySample,
    advantages: torch.Tensor,
    skip_weight: float = 0.0,
) -> torch.Tensor:
    """Mean over samples of ``-log p * advantage + skip_weight * skip_penalty``."""
    loss = -sample.log_prob * advantages.to(sample.log_prob)
    if skip_weight:
        loss = loss + skip_weight * sample.skip_penalty
    return loss.mean()


def reinforce_update(
    policy: LstmPolicy,
    optimizer: torch.optim.Optimizer,
    decisions: torch.Tensor,
    accuracies: Sequence[float],
    baseline: MovingAverageBaseline,
    entropy_weight: float = 0.0,
    skip_weight: float = 0.0,
    grad_clip: float | None = None,
    layers: int | None = None,
) -> dict[str, float]:
    """One controller update from ``n`` samples drawn with the current parameters and their
    accuracies (fractions): the baseline advances sample by sample, then one step on the
    mean loss. Returns what ENAS logs (reward, baseline, entropy, loss, grad norm).
    ``layers``: the samples are rows of the first so many layers (``LstmPolicy.sample``)."""
    ev = policy.evaluate(decisions, layers)
    rewards, baselines = [], []
    for acc, ent in zip(accuracies, ev.entropy.tolist(), strict=True):
        r = float(acc) + entropy_weight * ent
        rewards.append(r)
        baselines.append(baseline.update(r, first=float(acc)))
    adv = torch.tensor(rewards, dtype=torch.float64) - torch.tensor(baselines, dtype=torch.float64)
    loss = reinforce_loss(ev, adv, skip_weight)
    optimizer.zero_grad()
    loss.backward()
    params = [p for g in optimizer.param_groups for p in g["params"]]
    norm = nn.utils.clip_grad_norm_(params, grad_clip if grad_clip else float("inf"))
    optimizer.step()
    return {
        "reward": sum(rewards) / len(rewards),
        "baseline": baselines[-1],
        "entropy": float(ev.entropy.mean()),
        "loss": float(loss.detach()),
        "grad_norm": float(norm),
        "skip_penalty": float(ev.skip_penalty.mean().detach()),
    }


def controller_adam(
    policy: nn.Module,
    lr: float,
    betas: Sequence[float] = (0.0, 0.999),
    eps: float = 1e-3,
    weight_decay: float = 0.0,
) -> torch.optim.Adam:
    """ENAS's controller optimiser: Adam with beta1 = 0 and epsilon 1e-3 (src/utils.py
    L218; AutoDL ENAS.config ``controller_betas [0, 0.999]``, ``controller_eps 0.001``)."""
    return torch.optim.Adam(
        policy.parameters(), lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay
    )
