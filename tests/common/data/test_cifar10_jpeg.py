"""The CIFAR-10 JPEG copy: the decoded small subset, and the byte-exact JPEG npz."""

import numpy as np
import pytest

from common.data import cifar10_jpeg
from common.data.cifar10_jpeg import (
    BYTES_FILE,
    SMALL_FILE,
    CIFAR10JpegDataModule,
    CIFAR10JpegSmallDataModule,
    decode_jpegs,
    load_npz,
)
from common.data.splits import rng_for, stratified_subset

BYTES_KEYS = ("data", "offsets", "y", "is_test", "paths")


@pytest.fixture(scope="module")
def jpeg_bytes(shared_file):
    return load_npz(shared_file(BYTES_FILE), BYTES_KEYS)


def test_small_npz_sizes_and_class_balance(shared_file):
    dm = CIFAR10JpegSmallDataModule(
        root=shared_file(SMALL_FILE).parent, split="full", val_fraction=0.0
    )
    dm.setup()
    assert dm.data_variant == "cifar10-jpeg-yoongikim-small"
    assert (len(dm.train_set), len(dm.test_set)) == (5000, 1000)
    assert np.bincount(dm.train_set.raw_labels).tolist() == [500] * 10
    assert np.bincount(dm.test_set.raw_labels).tolist() == [100] * 10
    images, labels = next(iter(dm.test_dataloader()))
    assert images.shape[1:] == (3, 32, 32) and labels.max() < 10


def test_bytes_decode_equals_the_small_npz(jpeg_bytes, shared_file):
    """The small npz is a decode of the same JPEG files: pixels agree exactly."""
    paths = list(jpeg_bytes["paths"])
    wanted = {"train/airplane/0000.jpg": ("x_train", 0), "train/cat/0003.jpg": ("x_train", 1503)}
    wanted["test/truck/0099.jpg"] = ("x_test", 999)
    decoded = decode_jpegs(
        jpeg_bytes["data"], jpeg_bytes["offsets"], [paths.index(p) for p in wanted]
    )
    with np.load(shared_file(SMALL_FILE)) as small:
        for image, (key, row) in zip(decoded, wanted.values(), strict=True):
            np.testing.assert_array_equal(image, small[key][row])


def test_train_mean_on_a_stratified_subset(jpeg_bytes):
    train = np.flatnonzero(~jpeg_bytes["is_test"])
    assert len(train) == 50000 and np.bincount(jpeg_bytes["y"][train]).tolist() == [5000] * 10
    subset = train[stratified_subset(jpeg_bytes["y"][train], 2000, rng_for(0, 0))]
    images = decode_jpegs(jpeg_bytes["data"], jpeg_bytes["offsets"], subset)
    mean = (images / 255.0).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(mean, (0.4913, 0.4821, 0.4465), atol=0.01)


def test_bytes_module_decodes_once_and_caches(tmp_path, jpeg_bytes, monkeypatch):
    """A 40-image npz cut from the real one (3 train + 1 test JPEG per class, bytes unchanged)."""
    y, is_test, offsets = jpeg_bytes["y"], jpeg_bytes["is_test"], jpeg_bytes["offsets"]
    pick = np.concatenate(
        [np.flatnonzero((y == c) & ~is_test)[:3] for c in range(10)]
        + [np.flatnonzero((y == c) & is_test)[:1] for c in range(10)]
    )
    chunks = [jpeg_bytes["data"][offsets[i] : offsets[i + 1]] for i in pick]
    small_offsets = np.concatenate([[0], np.cumsum([len(c) for c in chunks])])
    (tmp_path / "src").mkdir()
    np.savez(
        tmp_path / "src" / BYTES_FILE,
        data=np.concatenate(chunks),
        offsets=small_offsets,
        y=y[pick],
        is_test=is_test[pick],
    )
    kwargs = dict(root=tmp_path / "src", cache_dir=tmp_path / "cache", split="search")
    dm = CIFAR10JpegDataModule(**kwargs)
    dm.setup()
    assert dm.data_variant == "cifar10-jpeg-yoongikim"
    assert len(dm.train_set) + len(dm.val_set) == 30 and len(dm.test_set) == 10
    expected = decode_jpegs(jpeg_bytes["data"], offsets, pick[30:])
    np.testing.assert_array_equal(dm.test_set.raw_images, expected)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again although a cache exists")

    monkeypatch.setattr(cifar10_jpeg, "decode_jpegs", no_decoding)
    again = CIFAR10JpegDataModule(**kwargs)
    again.setup()
    np.testing.assert_array_equal(again.test_set.raw_images, expected)
