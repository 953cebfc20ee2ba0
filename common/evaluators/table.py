"""The ``table`` evaluator: an architecture's score is a benchmark table's entry (NAS-Bench-201's
search signal), its cost the training time the table records, as the NB-201 protocol counts it
(Dong & Yang, ICLR 2020, Sect. 5; AutoDL-Projects ``simulate_train_eval`` @bb2f405).

It wraps one ``QuerySession`` (one search run's budget) and keeps its exact budget rule: a
table knows an evaluation's cost before making it, so a query that would overrun the budget
is refused before it is made (not charged, ``None``), and the search must stop.
"""

from __future__ import annotations

from common.benchmarks.nb201 import QuerySession
from common.evaluators.base import Evaluation, Evaluator
from common.spaces.nb201.arch import Nb201Arch


class TableEvaluator(Evaluator):
    """NB-201 table queries through ``session``; budget and spending are the session's."""

    kind = "table"

    def __init__(self, session: QuerySession) -> None:
        super().__init__(budget_s=session.time_budget_s)
        self.session = session

    def fits(self, arch: Nb201Arch) -> bool:
        return self.session.fits(arch)

    def _evaluate(self, arch: Nb201Arch) -> Evaluation:
        cost = self.session.cost(arch)
        return Evaluation(self.session.query(arch, enforce_budget=False), cost)
