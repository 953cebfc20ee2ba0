"""Seeded, stratified index splits: the search halves, held-out validation and reduced subsets.

Every split keeps each class's share of the pool to within one image, so a 50/50 search split
of CIFAR-10 gives 2,500 images per class on each side and a reduced CPU-scale subset keeps the
class balance of the full set.
"""

import numpy as np

# Distinct streams for the different draws made from one user seed, so that e.g. the subset
# taken by max_train_samples and the search halves are not the same permutation.
STREAM_TRAIN_SUBSET = 1
STREAM_SPLIT = 2
STREAM_EVAL_SUBSET = 3
STREAM_FIXED_TEST = 4


def rng_for(seed: int, stream: int) -> np.random.Generator:
    """A numpy generator for one purpose (``stream``) under one user ``seed``."""
    return np.random.default_rng([seed, stream])


def stratified_split(
    labels: np.ndarray, n_held: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions ``0..len(labels)-1`` into (kept, held) with exactly ``n_held`` held.

    Each class gives ``n_held * count / N`` images, rounded by largest remainder (ties broken
    by a seeded draw), so the total is exact and each class is within one image of its share.
    Both index arrays come back sorted; loaders do the shuffling.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if not 0 <= n_held <= n:
        raise ValueError(f"cannot hold out {n_held} of {n} samples")
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    exact = counts * (n_held / n) if n else counts.astype(float)
    quota = np.floor(exact).astype(np.int64)
    extra = n_held - int(quota.sum())
    order = np.lexsort((rng.random(len(classes)), -(exact - quota)))
    quota[order[:extra]] += 1
    held = np.zeros(n, dtype=bool)
    for k, q in enumerate(quota):
        members = np.flatnonzero(inverse == k)
        held[rng.permutation(members)[:q]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def stratified_halves(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The DARTS/NB-201 search split: (weights half, architecture half), sizes differ by <= 1."""
    kept, held = stratified_split(labels, len(labels) // 2, rng_for(seed, STREAM_SPLIT))
    return kept, held


def stratified_subset(labels: np.ndarray, n_take: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of a class-balanced subset of ``n_take`` samples (all if fewer exist)."""
    if n_take >= len(labels):
        return np.arange(len(labels))
    _, taken = stratified_split(labels, n_take, rng)
    return taken
