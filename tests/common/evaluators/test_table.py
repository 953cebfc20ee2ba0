"""The table evaluator keeps the NB-201 query session's budget rule exactly."""

import random

import pytest

from common.evaluators.table import TableEvaluator
from common.spaces.nb201.arch import Nb201Arch


def test_refuses_the_query_that_would_overrun_and_charges_nothing(nb201_bench):
    archs = [Nb201Arch.sample(random.Random(i)) for i in range(3)]
    costs = [nb201_bench.value(a, "cifar10valid_train_time_s") * 0.06 for a in archs]
    budget = costs[0] + costs[1] / 2  # the first fits, the second would overrun
    session = nb201_bench.session("cifar10_valid_12ep", "cifar10valid_train_time_s", 0.06, budget)
    ev = TableEvaluator(session)
    assert ev.kind == "table" and ev.budget_s == budget
    first = ev.evaluate(archs[0])
    assert first.score == nb201_bench.value(archs[0], "cifar10_valid_12ep")
    assert first.cost_s == pytest.approx(costs[0])
    assert not ev.fits(archs[1]) and ev.evaluate(archs[1]) is None
    assert (ev.num_evaluations, session.num_queries) == (1, 1)
    assert ev.spent_s == session.simulated_time_s == first.cost_s  # nothing charged for it
    # REINFORCE's last query and REA's first population are made past the budget check
    forced = ev.evaluate(archs[1], enforce_budget=False)
    assert forced is not None and ev.spent_s == session.simulated_time_s > budget
    assert ev.evaluate(archs[2]) is None and ev.num_evaluations == 2
