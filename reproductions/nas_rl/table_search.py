"""NAS-RL's controller on tabular benchmarks: no child is trained, a query returns the
table's accuracy (NAS-Bench-201 under the NB-201 query protocol, ``common.protocols.
nb201_query``; NAS-Bench-Macro under the query protocol of ``macro_table``).

This isolates the controller: the same policy, optimiser, baseline and reward as the CNN
search (``controller.NasRlController``), over a fixed-length row of per-step softmaxes (one
per NB-201 edge, one per NAS-Bench-Macro layer) and without anchor points (neither table has
skip choices). Each update draws ``batch`` architectures with the current policy, queries
them, and takes one REINFORCE step; the answer is the best-scored architecture queried (the
paper reports the network with the best validation accuracy, Sect. 4).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from common.evaluators.base import Evaluator
from common.spaces.nb201.arch import NUM_EDGES, Nb201Arch
from common.spaces.nb201.arch import OPS as NB201_OPS
from common.spaces.nb_macro.arch import NUM_LAYERS as MACRO_LAYERS
from common.spaces.nb_macro.arch import OPS as MACRO_OPS
from common.spaces.nb_macro.arch import MacroArch
from reproductions.nas_rl.controller import NasRlController


def controller_search(
    evaluator: Evaluator,
    rng: random.Random,
    decode: Callable[[Sequence[int]], Any],
    choices: Sequence[int],
    batch: int = 8,
    trace: list | None = None,
    **controller: Any,
) -> Any:
    """Search until the evaluator refuses a query; return the best-scored architecture.
    ``choices``: the choice count of each step; ``controller``: ``NasRlController``
    settings; ``trace`` (optional): gets ``(arch, score)`` per query, in order."""
    ctl = _fixed_controller(choices, rng, controller)
    best, best_score = None, float("-inf")
    while True:
        rows = ctl.sample(batch)
        scores = []
        for row in rows:
            arch = decode(row.tolist())
            result = evaluator.evaluate(arch)
            if result is None:  # the budget is spent
                break
            scores.append(result.score)
            if trace is not None:
                trace.append((arch, result.score))
            if result.score > best_score:
                best, best_score = arch, result.score
        if len(scores) < batch:
            break
        ctl.update(rows, scores)
    if best is None:
        raise RuntimeError("budget too small for a single query")
    return best


def _fixed_controller(choices: Sequence[int], rng: random.Random, settings: dict):
    """A controller over one row of ``len(choices)`` steps (each its own softmax), no skips."""
    return NasRlController(
        layer_choices=list(choices),
        max_layers=1,
        skip=False,
        seed=rng.getrandbits(62),
        **settings,
    )


def nb201_search(evaluator: Evaluator, rng: random.Random, **settings: Any) -> Nb201Arch:
    """NB-201: one decision per edge over its 5 ops (``Nb201Arch.from_indices`` order)."""
    return controller_search(
        evaluator, rng, Nb201Arch.from_indices, [len(NB201_OPS)] * NUM_EDGES, **settings
    )


def nb_macro_search(evaluator: Evaluator, rng: random.Random, **settings: Any) -> MacroArch:
    """NAS-Bench-Macro: one decision per layer over its 3 ops."""
    return controller_search(
        evaluator,
        rng,
        lambda row: MacroArch(tuple(row)),
        [len(MACRO_OPS)] * MACRO_LAYERS,
        **settings,
    )
