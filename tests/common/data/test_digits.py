"""The embedded default dataset: fixed test split, seeded stratified splits, determinism."""

import numpy as np
from sklearn.datasets import load_digits

from common.data.digits import DigitsDataModule, fixed_test_split


def class_counts(labels: np.ndarray) -> np.ndarray:
    return np.bincount(labels, minlength=10)


def test_fixed_test_split_is_stratified_disjoint_and_complete():
    labels = load_digits().target
    train, test = fixed_test_split(labels)
    assert (len(train), len(test)) == (1438, 359)
    assert len(np.intersect1d(train, test)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(1797))
    share = class_counts(labels) * 359 / 1797
    assert np.all(np.abs(class_counts(labels[test]) - share) < 1)


def test_split_sizes_stratification_and_disjointness():
    dm = DigitsDataModule(seed=3)
    dm.setup()
    assert (dm.num_classes, dm.in_channels, dm.image_size) == (10, 1, 8)
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (1150, 288, 359)
    assert dm.val_set.images is dm.train_set.images  # validation comes from train, not test
    assert len(np.intersect1d(dm.train_set.indices, dm.val_set.indices)) == 0
    pool = class_counts(dm.train_set.labels)  # the 1,438 non-test images
    assert np.all(np.abs(class_counts(dm.val_set.raw_labels) - pool * 288 / 1438) < 1)
    assert dm.train_set.raw_images.max() == 16  # stored as 0..16 ...
    x, _ = dm.train_set[0]
    assert x.shape == (1, 8, 8)  # ... and normalised from x / 16


def test_determinism_under_a_seed():
    a, b, c = DigitsDataModule(seed=1), DigitsDataModule(seed=1), DigitsDataModule(seed=2)
    for dm in (a, b, c):
        dm.setup()
    np.testing.assert_array_equal(a.val_set.indices, b.val_set.indices)
    assert not np.array_equal(a.val_set.indices, c.val_set.indices)
    np.testing.assert_array_equal(a.test_set.raw_labels, c.test_set.raw_labels)  # fixed test
    batch_a = next(iter(a.train_dataloader()))[1]
    batch_b = next(iter(b.train_dataloader()))[1]
    np.testing.assert_array_equal(batch_a.numpy(), batch_b.numpy())


def test_default_instance_needs_no_file():
    dm = DigitsDataModule()
    dm.prepare_data()
    dm.setup()
    assert dm.augment is False and dm.record()["data_variant"] == "sklearn-digits"
