"""Training-free architecture scores, for any ``nn.Module`` classifier.

``SCORES[name](net, inputs, targets, **options) -> float`` scores ``net`` at its current
(initial) weights on one mini-batch. Each score follows its paper and the authors' code in
batch handling, BN mode, signs and numerics (see each module's docstring); which inputs to
feed (batch size, augmentation, crops) is the caller's choice, recorded by each reproduction.

| name | paper | better | module |
|---|---|---|---|
| naswot | Mellor et al., ICML 2021 | higher | naswot.py |
| ntk_cond | Chen et al. (TE-NAS), ICLR 2021 | lower | ntk.py |
| linear_regions | Chen et al. (TE-NAS), ICLR 2021 | higher | linear_regions.py |
| grad_norm, snip, grasp, fisher, | Abdelfattah et al., ICLR 2021 | higher | zero_cost.py |
| jacob_cov, synflow | (same) | higher | zero_cost.py |
"""

from __future__ import annotations

from collections.abc import Callable

from common.scores.linear_regions import num_linear_regions
from common.scores.naswot import naswot_score
from common.scores.ntk import ntk_condition_number
from common.scores.zero_cost import (
    PROXIES,
    fisher,
    grad_norm,
    grasp,
    jacob_cov,
    snip,
    synflow,
    zero_cost_scores,
)

ScoreFn = Callable[..., float]

SCORES: dict[str, ScoreFn] = {
    "naswot": naswot_score,
    "ntk_cond": ntk_condition_number,
    "linear_regions": num_linear_regions,
    "grad_norm": grad_norm,
    "snip": snip,
    "grasp": grasp,
    "fisher": fisher,
    "jacob_cov": jacob_cov,
    "synflow": synflow,
}

HIGHER_IS_BETTER: dict[str, bool] = {name: name != "ntk_cond" for name in SCORES}

__all__ = ["HIGHER_IS_BETTER", "PROXIES", "SCORES", "ScoreFn", "zero_cost_scores"]
