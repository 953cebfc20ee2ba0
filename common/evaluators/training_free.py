"""The ``training-free`` evaluator: a score at initialisation (``common.scores``) of the network
an architecture builds, on one fixed mini-batch; the cost is the measured wall-clock of the
build and the score.

The network is built inside the evaluation, so weight initialisations draw from torch's RNG
in evaluation order: a search that seeds torch once and evaluates its cells in sampling order
(NASWOT, Algorithm 1) gets the networks the authors' loop builds. ``score`` is oriented so
that higher is better (``-ntk_cond``); ``info`` keeps the raw value under the score's name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from common.errors import choices_error
from common.evaluators.base import Evaluation, Evaluator
from common.scores import HIGHER_IS_BETTER, SCORES


class TrainingFreeEvaluator(Evaluator):
    """``SCORES[score](build(arch), inputs, targets, **options)``, higher is better.

    ``build``: architecture -> untrained network (on the device and memory layout of
    ``inputs``). ``targets``: labels for the scores that use a loss (zero-cost proxies).
    """

    kind = "training-free"

    def __init__(
        self,
        score: str,
        build: Callable[[Any], nn.Module],
        inputs: torch.Tensor,
        targets: torch.Tensor | None = None,
        options: Mapping[str, Any] | None = None,
        budget_s: float = math.inf,
    ) -> None:
        if score not in SCORES:
            raise choices_error("training-free score", score, sorted(SCORES))
        super().__init__(budget_s)
        self.score_name = score
        self.score_fn = SCORES[score]
        self.higher_is_better = HIGHER_IS_BETTER[score]
        self.build = build
        self.inputs = inputs
        self.targets = targets
        self.options = dict(options or {})

    def _evaluate(self, arch: Any) -> Evaluation:
        value = self.score_fn(self.build(arch), self.inputs, self.targets, **self.options)
        score = value if self.higher_is_better else -value
        return Evaluation(score, -1.0, {self.score_name: value})
