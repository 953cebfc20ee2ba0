"""Missing and corrupt files fail early with a one-line NasReproError naming the file."""

import shutil

import numpy as np
import pytest

from common.data.cifar import CIFAR10DataModule, CIFAR100DataModule
from common.data.cifar10_jpeg import (
    BYTES_FILE,
    SMALL_FILE,
    CIFAR10JpegDataModule,
    CIFAR10JpegSmallDataModule,
)
from common.data.digits import DigitsDataModule
from common.data.fashion_mnist import FashionMNISTDataModule
from common.data.imagenet16 import ImageNet16DataModule
from common.errors import NasReproError
from tests.common.data.helpers import dump, write_cifar10


def raises(dm, *fragments: str) -> str:
    """Run prepare_data + setup; return the error message after checking its fragments."""
    with pytest.raises(NasReproError) as info:
        dm.prepare_data()
        dm.setup()
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert str(fragment) in message, message
    return message


@pytest.fixture()
def cifar10_dir(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    return write_cifar10(tmp_path, x, np.arange(20) % 10)


def test_missing_cifar_folder_names_path_format_and_source(tmp_path):
    raises(
        CIFAR10DataModule(root=tmp_path),
        tmp_path / "cifar-10-batches-py",
        "python-pickle",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "data.download=true",
    )
    raises(CIFAR100DataModule(root=tmp_path), tmp_path / "cifar-100-python", "cifar-100-python")


def test_missing_cifar_batch_names_that_file(cifar10_dir):
    (cifar10_dir / "data_batch_3").unlink()
    raises(CIFAR10DataModule(root=cifar10_dir.parent), cifar10_dir / "data_batch_3")


def test_truncated_pickle(cifar10_dir):
    path = cifar10_dir / "test_batch"
    path.write_bytes(path.read_bytes()[:1000])
    raises(CIFAR10DataModule(root=cifar10_dir.parent), "corrupt", path)


def test_wrong_shape_pickle(cifar10_dir):
    path = cifar10_dir / "data_batch_2"
    dump(path, {"data": np.zeros((4, 100), np.uint8), "labels": [0, 1, 2, 3]})
    raises(CIFAR10DataModule(root=cifar10_dir.parent), "corrupt", path, "3072")


def test_imagenet16_missing_file(tmp_path):
    raises(ImageNet16DataModule(root=tmp_path / "nope"), tmp_path / "nope")
    tmp_path.joinpath("ImageNet16").mkdir()
    raises(
        ImageNet16DataModule(root=tmp_path / "ImageNet16"),
        tmp_path / "ImageNet16" / "train_data_batch_1",
        "image-net.org",
    )


def test_fashion_mnist_missing_and_corrupt(tmp_path):
    raises(
        FashionMNISTDataModule(root=tmp_path / "none"), tmp_path / "none", "dataset-fashion-mnist"
    )
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(b"")
    raises(FashionMNISTDataModule(root=tmp_path), tmp_path / "t10k-images-idx3-ubyte")
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    raises(
        FashionMNISTDataModule(root=tmp_path),
        "corrupt IDX",
        tmp_path / "train-images-idx3-ubyte.gz",
    )


def test_jpeg_npz_missing_truncated_or_incomplete(tmp_path, shared_file):
    raises(CIFAR10JpegDataModule(root=tmp_path, cache_dir=tmp_path), tmp_path / BYTES_FILE)
    truncated = tmp_path / SMALL_FILE
    truncated.write_bytes(shared_file(SMALL_FILE).read_bytes()[:100_000])
    raises(CIFAR10JpegSmallDataModule(root=tmp_path), "corrupt npz", truncated)
    np.savez(truncated, x_train=np.zeros((2, 32, 32, 3), np.uint8))
    raises(CIFAR10JpegSmallDataModule(root=tmp_path), truncated, "y_train")
    np.savez(
        truncated,
        x_train=np.zeros((2, 28, 28, 3), np.uint8),
        y_train=np.zeros(2, np.uint8),
        x_test=np.zeros((2, 28, 28, 3), np.uint8),
        y_test=np.zeros(2, np.uint8),
    )
    raises(CIFAR10JpegSmallDataModule(root=tmp_path), truncated, "shape")


def test_bad_arguments():
    with pytest.raises(NasReproError, match="unknown data.split 'trainval'; valid: full"):
        DigitsDataModule(split="trainval")
    with pytest.raises(NasReproError, match="val_fraction"):
        DigitsDataModule(split="train_val", val_fraction=0.0)
    with pytest.raises(NasReproError, match="3 values"):
        CIFAR10DataModule(root="x", mean=[0.5])


def test_shared_folder_is_never_written(tmp_path, shared_file):
    """The cache goes to cache_dir; the npz folder may be read-only."""
    src = tmp_path / "ro"
    src.mkdir()
    shutil.copy(shared_file(SMALL_FILE), src / SMALL_FILE)
    src.chmod(0o555)
    try:
        dm = CIFAR10JpegSmallDataModule(root=src)
        dm.setup()
        assert sorted(p.name for p in src.iterdir()) == [SMALL_FILE]
    finally:
        src.chmod(0o755)
