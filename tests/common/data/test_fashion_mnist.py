"""Fashion-MNIST from the Debian package's IDX files, and from plain (ungzipped) IDX files."""

from pathlib import Path

import numpy as np
import pytest

from common.data.fashion_mnist import FILES, FashionMNISTDataModule

DEBIAN_ROOT = Path("/usr/share/datasets/fashion-mnist")


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.mark.skipif(
    not (DEBIAN_ROOT / "train-images-idx3-ubyte.gz").exists(),
    reason="Debian package dataset-fashion-mnist not installed "
    "(apt-get install dataset-fashion-mnist)",
)
def test_debian_package_files(shared_file):
    dm = FashionMNISTDataModule(root=DEBIAN_ROOT, split="full", val_fraction=0.0)
    dm.setup()
    assert (dm.num_classes, dm.in_channels, dm.image_size) == (10, 1, 28)
    assert dm.train_set.raw_images.shape == (60000, 28, 28, 1)
    assert dm.test_set.raw_images.shape == (10000, 28, 28, 1)
    assert np.bincount(dm.train_set.raw_labels).tolist() == [6000] * 10
    assert np.bincount(dm.test_set.raw_labels).tolist() == [1000] * 10
    with np.load(shared_file("foolbox_test_samples.npz")) as npz:
        x, y = npz["fashionMNIST_x"], npz["fashionMNIST_y"]
    np.testing.assert_array_equal(dm.test_set.raw_images[:20, ..., 0], x)
    np.testing.assert_array_equal(dm.test_set.raw_labels[:20], y)
    # The statistics in the config are the training set's own.
    pixels = dm.train_set.raw_images / 255.0
    assert abs(pixels.mean() - dm.mean[0]) < 1e-3 and abs(pixels.std() - dm.std[0]) < 1e-3


def test_plain_idx_files(tmp_path, shared_file):
    with np.load(shared_file("foolbox_test_samples.npz")) as npz:
        x, y = npz["fashionMNIST_x"], npz["fashionMNIST_y"]
    for key, name in FILES.items():
        write_idx(tmp_path / name, x if key.endswith("images") else y)
    dm = FashionMNISTDataModule(root=tmp_path, split="full", val_fraction=0.0)
    dm.setup()
    np.testing.assert_array_equal(dm.test_set.raw_images[..., 0], x)
    np.testing.assert_array_equal(dm.train_set.raw_labels, y)
