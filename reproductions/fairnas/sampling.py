"""FairNAS's strict-fairness sampling (Chu, Zhang, Xu, ICCV 2021, Fig. 2, "Our strict fairness
sampling and training strategy for supernet", as shown in the official repository
xiaomi-automl/FairNAS @fa0d393 ``images/fairnas-sampling.png``).

A step trains m = (number of choices) paths, "sampled without replacement": each position
draws a random permutation of its choices, and path k takes the k-th op of every position's
permutation, so over the m paths every choice of every position is trained exactly once.
Their gradients are accumulated and the supernet makes one update
(``common.training.single_path.SinglePathSupernetModule`` does that for any sampler that
returns several paths). The figure's caption says each of the m models trains "on one batch of
data"; the module gives all m paths the step's one batch (see the README).
"""

from __future__ import annotations

import random

from common.training.single_path import Path, PathSampler


class StrictFairSampler(PathSampler):
    """m = len(choices) paths per step that together use every choice of every position
    exactly once (independent uniform permutations, one per position)."""

    def sample(self, rng: random.Random) -> list[Path]:
        choices = list(self.space.choices)
        perms = []
        for _ in self.space.positions:
            perm = choices[:]
            rng.shuffle(perm)
            perms.append(perm)
        return [tuple(perm[k] for perm in perms) for k in range(len(choices))]
