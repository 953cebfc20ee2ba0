"""SPOS's path sampling (Guo et al., ECCV 2020; official code
megvii-model/SinglePathOneShot @36eed6c, ``src/Supernet/train.py``).

Uniform sampling, optionally under the official code's FLOPs constraint: every step draws
one of the FLOPs bins uniformly, then draws uniform paths until one's FLOPs fall in that bin
(``get_uniform_sample_cand``: bins of ``flops_step`` from ``flops_l`` to ``flops_r``, i.e.
[290, 300], ..., [350, 360] MFLOPs, both ends inclusive, at most ``timeout=500`` draws).
Paths are then uniform within a bin and the bins equally likely, so the trained FLOPs are
spread evenly over the range the search will look at. When no path of the bin turns up
within the timeout, the official code trains an unconstrained uniform path
(``on_timeout="random"``); ``on_timeout="error"`` refuses instead. Timeouts are counted.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from common.training.single_path import Path, PathSampler, PathSpace

ON_TIMEOUT = ("random", "error")


class FlopsBinSampler(PathSampler):
    """Uniform paths; with ``bins = [low, high, step]`` (in the unit of ``space.cost``) the
    official FLOPs-bin constraint. ``bins=None`` is plain uniform sampling."""

    def __init__(
        self,
        space: PathSpace,
        bins: Sequence[float] | None = None,
        timeout: int = 500,  # train.py get_uniform_sample_cand(*, timeout=500)
        on_timeout: str = "random",  # train.py: `return get_random_cand()`
    ) -> None:
        super().__init__(space)
        if on_timeout not in ON_TIMEOUT:
            raise ValueError(f"on_timeout must be one of {ON_TIMEOUT}, got {on_timeout!r}")
        self.bins: list[tuple[float, float]] = []
        if bins is not None:
            low, high, step = bins
            if not (step > 0 and high > low):
                raise ValueError(f"bins = [low, high, step] with high > low, step > 0: {bins}")
            if space.cost is None:
                raise ValueError("FLOPs bins need a cost over architectures (space.cost_column)")
            self.bins = [(b, b + step) for b in _arange(low, high, step)]  # range(l, r, step)
        self.timeout = int(timeout)
        self.on_timeout = on_timeout
        self.timeouts = 0
        self.last_bin: tuple[float, float] | None = None

    def sample(self, rng: random.Random) -> list[Path]:
        if not self.bins:
            return [self.space.random_path(rng)]
        low, high = self.last_bin = self.bins[rng.randrange(len(self.bins))]
        for _ in range(self.timeout):
            path = self.space.random_path(rng)
            if low <= self.space.path_cost(path) <= high:
                return [path]
        self.timeouts += 1
        if self.on_timeout == "error":
            raise RuntimeError(
                f"no path with cost in [{low}, {high}] in {self.timeout} uniform draws"
            )
        self.last_bin = None  # the official fallback: an unconstrained path
        return [self.space.random_path(rng)]


def _arange(low: float, high: float, step: float) -> list[float]:
    out, k = [], 0
    while low + k * step < high:
        out.append(low + k * step)
        k += 1
    return out
