"""Split modes (search / train_val / full), reduced subsets, augmentation and Cutout."""

import numpy as np
import pytest
import torch
from torchvision.transforms import v2

from common.data.cifar10_jpeg import SMALL_FILE, CIFAR10JpegSmallDataModule
from common.data.digits import DigitsDataModule
from common.data.splits import rng_for, stratified_halves, stratified_split
from common.data.transforms import Cutout, train_transform


@pytest.fixture(scope="module")
def small_root(shared_file):
    return shared_file(SMALL_FILE).parent


def test_search_halves_are_disjoint_equal_and_cover_train(small_root):
    dm = CIFAR10JpegSmallDataModule(root=small_root, split="search")
    dm.setup()
    first, second = dm.train_set.indices, dm.val_set.indices
    assert dm.val_set.images is dm.train_set.images  # both halves come from the train split
    assert len(np.intersect1d(first, second)) == 0
    assert abs(len(first) - len(second)) <= 1
    np.testing.assert_array_equal(np.sort(np.concatenate([first, second])), np.arange(5000))
    assert np.bincount(dm.val_set.raw_labels).tolist() == [250] * 10  # stratified
    # DARTS train_search.py: both queues use the training transform (augmented, shuffled).
    assert dm.val_set.transform is dm.train_set.transform
    assert any(isinstance(t, v2.RandomCrop) for t in dm.train_set.transform.transforms)
    assert dm.val_dataloader().batch_size == dm.batch_size


def test_search_halves_of_an_odd_pool_differ_by_one():
    labels = np.random.default_rng(0).integers(0, 7, size=1001)
    first, second = stratified_halves(labels, seed=5)
    assert (len(first), len(second)) == (501, 500)
    assert len(np.union1d(first, second)) == 1001
    dm = DigitsDataModule(split="search")
    dm.setup()
    assert (len(dm.train_set), len(dm.val_set)) == (719, 719)


def test_stratified_split_keeps_each_class_within_one():
    labels = np.repeat(np.arange(5), [3, 10, 17, 40, 130])
    kept, held = stratified_split(labels, 37, rng_for(0, 9))
    assert len(held) == 37 and len(kept) == 163
    share = np.bincount(labels) * 37 / len(labels)
    assert np.all(np.abs(np.bincount(labels[held], minlength=5) - share) < 1)


def test_train_val_holds_out_unaugmented_validation(small_root):
    dm = CIFAR10JpegSmallDataModule(root=small_root, split="train_val", val_fraction=0.1)
    dm.setup()
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (4500, 500, 1000)
    assert len(np.intersect1d(dm.train_set.indices, dm.val_set.indices)) == 0
    assert dm.val_set.transform.transforms[0].__class__ is v2.Normalize  # no augmentation
    x1, _ = dm.val_set[0]
    x2, _ = dm.val_set[0]
    torch.testing.assert_close(x1, x2)


def test_full_mode_never_validates_on_test(small_root):
    dm = CIFAR10JpegSmallDataModule(root=small_root, split="full", val_fraction=0.0)
    dm.setup()
    assert len(dm.train_set) == 5000 and dm.val_dataloader() == []
    held = CIFAR10JpegSmallDataModule(root=small_root, split="full", val_fraction=0.2)
    held.setup()
    assert len(held.val_set) == 1000 and held.val_set.images is held.train_set.images


def test_reduced_subsets_are_seeded_and_stratified(small_root):
    def make(seed):
        dm = CIFAR10JpegSmallDataModule(
            root=small_root, split="search", max_train_samples=400, max_eval_samples=100, seed=seed
        )
        dm.setup()
        return dm

    a, b, c = make(0), make(0), make(1)
    assert (len(a.train_set), len(a.val_set), len(a.test_set)) == (200, 200, 100)
    assert np.bincount(a.test_set.raw_labels).tolist() == [10] * 10
    assert (
        np.bincount(np.concatenate([a.train_set.raw_labels, a.val_set.raw_labels])).tolist()
        == [40] * 10
    )
    np.testing.assert_array_equal(a.train_set.indices, b.train_set.indices)
    assert not np.array_equal(a.train_set.indices, c.train_set.indices)
    assert a.record()["reduced"] is True


def test_cutout_zeroes_one_square_of_the_configured_size():
    length, inside = 16, 0
    for seed in range(40):
        img = torch.rand(3, 32, 32) + 0.1  # no pixel is zero before the cut
        out = Cutout(length, generator=torch.Generator().manual_seed(seed))(img)
        hole = (out == 0).all(dim=0)
        assert torch.equal((out == 0).any(dim=0), hole)  # all channels cut alike
        rows, cols = torch.nonzero(hole, as_tuple=True)
        y1, y2, x1, x2 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        assert bool(hole[y1:y2, x1:x2].all()) and int(hole.sum()) == (y2 - y1) * (x2 - x1)
        torch.testing.assert_close(out[:, ~hole], img[:, ~hole])
        if y1 > 0 and x1 > 0 and y2 < 32 and x2 < 32:  # fully inside the image
            inside += 1
            assert (y2 - y1, x2 - x1) == (length, length) and int(hole.sum()) == length**2
    assert inside > 0


def test_cutout_comes_after_normalisation():
    tf = train_transform(32, True, 4, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), cutout=16)
    assert isinstance(tf.transforms[-2], v2.Normalize) and isinstance(tf.transforms[-1], Cutout)
    assert tf(torch.rand(3, 32, 32)).shape == (3, 32, 32)
