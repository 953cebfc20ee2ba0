"""scikit-learn's digits: the project's default dataset, embedded, so it needs no file.

``sklearn.datasets.load_digits``: 1,797 real 8x8 grey images of handwritten digits (UCI
optdigits test set), pixel values 0..16, 10 classes of 174-183 images each.

The dataset has no official test split, so one is fixed here: a stratified 20% (359 images)
drawn with the constant ``TEST_SEED`` = 0, the same for every run and every ``seed``. The
remaining 1,438 images are the "training set" that the split modes act on, with ``seed``:
``search`` gives halves of 719 / 719, ``train_val`` with ``val_fraction=0.2`` gives
1,150 / 288. ``root`` is ignored.
"""

from typing import Any

import numpy as np

from common.data.base import ImageDataModule, RawData
from common.data.splits import STREAM_FIXED_TEST, rng_for, stratified_split

TEST_SEED = 0
TEST_FRACTION = 0.2


def fixed_test_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (train, test) of the fixed stratified 20% test split; independent of ``seed``."""
    n_test = round(len(labels) * TEST_FRACTION)
    return stratified_split(labels, n_test, rng_for(TEST_SEED, STREAM_FIXED_TEST))


def digits_split() -> RawData:
    """All 1,797 digits as uint8 (N, 8, 8, 1) in 0..16, split into the fixed train/test parts."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    train, test = fixed_test_split(labels)
    return RawData(images[train], labels[train], images[test], labels[test])


class DigitsDataModule(ImageDataModule):
    """scikit-learn digits (8x8, 1 channel, 10 classes); arguments: see ``ImageDataModule``."""

    name = "sklearn digits"
    num_classes = 10
    in_channels = 1
    image_size = 8
    data_variant = "sklearn-digits"
    max_value = 16.0  # pixels are 0..16, so x / 16 lies in [0, 1] like the other datasets
    # Over all 1,797 images (pixel / 16).
    default_mean = (0.3053,)
    default_std = (0.3760,)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("augment", False)  # flips and shifts change what a digit is
        kwargs.setdefault("val_fraction", 0.2)
        super().__init__(**kwargs)

    def _check_files(self) -> None:
        """Nothing to check: the data ships inside scikit-learn."""

    def _load(self) -> RawData:
        return digits_split()
