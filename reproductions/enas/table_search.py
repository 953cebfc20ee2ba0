"""ENAS's controller on the NAS-Bench-201 table: the LSTM policy and its REINFORCE update
(Pham et al., ICML 2018, Sect. 2.2) with the table's 12-epoch validation accuracy as the
reward, under the NB-201 query protocol (``common.protocols.nb201_query``). No weights are
shared or trained: this isolates the controller, and the algorithm-quality test checks that
it beats random search at equal budget.

The policy is AutoDL's NB-201 controller (``nb201_policy``). Each update draws ``num_aggregate`` cells with
the current policy, queries them, and takes one step on their mean REINFORCE loss; the
answer is the best-scored cell queried.
"""

from __future__ import annotations

import random

import torch

from common.controllers.reinforce import MovingAverageBaseline, controller_adam, reinforce_update
from common.evaluators.base import Evaluator
from common.spaces.nb201.arch import Nb201Arch
from reproductions.enas.nb201_policy import decode, nb201_policy


def controller_search(
    evaluator: Evaluator,
    rng: random.Random,
    lstm_size: int = 32,
    lstm_layers: int = 2,
    tanh_constant: float | None = 2.5,
    temperature: float | None = 5.0,
    lr: float = 1e-3,
    num_aggregate: int = 20,
    entropy_weight: float = 1e-4,
    baseline_decay: float = 0.99,
    grad_clip: float | None = 5.0,
) -> Nb201Arch:
    """Search until the evaluator refuses a query; return the best-scored cell queried. The
    baseline starts at the first accuracy (no epochs here: AutoDL's hold-within-epoch rule
    does not apply). Defaults: AutoDL's NB-201 settings (``conf/enas/search_nb201.yaml``)."""
    seed = rng.getrandbits(62)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        policy = nb201_policy(lstm_size, lstm_layers, tanh_constant, temperature)
    generator = torch.Generator().manual_seed(seed + 1)
    optimizer = controller_adam(policy, lr)
    baseline = MovingAverageBaseline(baseline_decay, initial=None)
    best, best_score = None, float("-inf")
    while True:
        with torch.no_grad():
            rows = policy.sample(num_aggregate, generator=generator).decisions
        accuracies = []
        for row in rows:
            arch = decode(row)
            result = evaluator.evaluate(arch)
            if result is None:  # the budget is spent
                break
            accuracies.append(result.score / 100.0)
            if result.score > best_score:
                best, best_score = arch, result.score
        if len(accuracies) < num_aggregate:
            break
        reinforce_update(
            policy, optimizer, rows, accuracies, baseline, entropy_weight, grad_clip=grad_clip
        )
    if best is None:
        raise RuntimeError("time budget too small for a single query")
    return best
