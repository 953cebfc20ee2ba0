"""The one interface every evaluator implements.

An evaluator maps an architecture (a validated spec from ``common/spaces``) to an
``Evaluation``: a score where higher is better and the seconds that score cost. The cost is
simulated for a benchmark table (the training time the table records) and measured wall-clock
for everything else. An evaluator counts what it has spent; with a budget it answers ``None``
to an evaluation that does not ``fit``: a table knows the cost before it answers, so it
refuses the query that would overrun; a real evaluation knows it only after, so it refuses
the first evaluation that would start past the budget.

Kinds: ``table`` (a benchmark query), ``brief-training`` (a discrete network trained with a
proxy schedule), ``inherited-weights`` (a supernet's weights with re-estimated batch-norm
statistics), ``training-free`` (a score at initialisation).
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Evaluation:
    score: float
    cost_s: float
    info: dict[str, Any] = field(default_factory=dict)


class Evaluator(ABC):
    kind: ClassVar[str]

    def __init__(self, budget_s: float = math.inf) -> None:
        self.budget_s = budget_s
        self.spent_s = 0.0
        self.num_evaluations = 0

    def fits(self, arch: Any) -> bool:
        """Whether evaluating ``arch`` now stays within the budget (nothing is charged).

        By default: while budget is left, since the cost is known only after the evaluation.
        An evaluator that knows the cost beforehand (a table) checks the whole cost.
        """
        return self.spent_s < self.budget_s

    def evaluate(self, arch: Any, enforce_budget: bool = True) -> Evaluation | None:
        """Score ``arch`` and charge its cost, or ``None`` (nothing charged) when it does not
        ``fit``. ``enforce_budget=False`` evaluates and charges regardless: the NB-201 code does
        so for REA's initial population and for REINFORCE's last, overrunning query."""
        if enforce_budget and not self.fits(arch):
            return None
        start = time.perf_counter()
        result = self._evaluate(arch)
        if result.cost_s < 0:  # the subclass measured nothing: charge the wall-clock
            result = Evaluation(result.score, time.perf_counter() - start, result.info)
        self.spent_s += result.cost_s
        self.num_evaluations += 1
        return result

    @abstractmethod
    def _evaluate(self, arch: Any) -> Evaluation:
        """The score of ``arch``; ``cost_s=-1`` asks ``evaluate`` to charge the wall-clock."""
