"""CIFAR-10/100 loaders against the lossless first 20 official test images (foolbox samples)."""

import numpy as np
import pytest
import torch

from common.data.cifar import CIFAR10DataModule, CIFAR100DataModule
from tests.common.data.helpers import unnormalise, write_cifar10, write_cifar100


@pytest.fixture(scope="module")
def foolbox(shared_file):
    with np.load(shared_file("foolbox_test_samples.npz")) as npz:
        return {k: npz[k] for k in npz.files}


def test_cifar10_test_split_is_bit_exact(tmp_path, foolbox):
    x, y = foolbox["cifar10_x"], foolbox["cifar10_y"]
    assert x.shape == (20, 32, 32, 3) and x.dtype == np.uint8  # NHWC uint8, like CIFAR's HWC
    write_cifar10(tmp_path, x, y)
    dm = CIFAR10DataModule(root=tmp_path, split="full", val_fraction=0.0, eval_batch_size=20)
    dm.prepare_data()
    dm.setup("fit")
    assert (dm.num_classes, dm.in_channels, dm.image_size) == (10, 3, 32)
    assert dm.data_variant == "cifar10"
    np.testing.assert_array_equal(dm.test_set.raw_images, x)
    np.testing.assert_array_equal(dm.test_set.raw_labels, y)
    images, labels = next(iter(dm.test_dataloader()))
    assert images.dtype == torch.float32 and images.shape == (20, 3, 32, 32)
    np.testing.assert_array_equal(unnormalise(images, dm.mean, dm.std), x)
    np.testing.assert_array_equal(labels.numpy(), y)
    # The five train batches concatenate in order, and the val loader is empty in full mode.
    np.testing.assert_array_equal(dm.train_set.raw_images, x)
    assert dm.val_dataloader() == []


def test_cifar10_pixel_is_the_known_cat(tmp_path, foolbox):
    """Test image 0 of CIFAR-10 is a cat (label 3) whose top-left pixel is (158, 112, 49)."""
    write_cifar10(tmp_path, foolbox["cifar10_x"], foolbox["cifar10_y"])
    dm = CIFAR10DataModule(root=tmp_path, split="full", val_fraction=0.0)
    dm.setup()
    assert dm.test_set.raw_labels[0] == 3
    assert dm.test_set.raw_images[0, 0, 0].tolist() == [158, 112, 49]


def test_cifar100_test_split_is_bit_exact(tmp_path, foolbox):
    if "cifar100_x" not in foolbox:
        pytest.skip("foolbox_test_samples.npz has no CIFAR-100 samples")
    x, y = foolbox["cifar100_x"], foolbox["cifar100_y"]
    write_cifar100(tmp_path, x, y)
    dm = CIFAR100DataModule(root=tmp_path, split="full", val_fraction=0.0, eval_batch_size=20)
    dm.setup()
    assert (dm.num_classes, dm.data_variant) == (100, "cifar100")
    np.testing.assert_array_equal(dm.test_set.raw_images, x)
    np.testing.assert_array_equal(dm.test_set.raw_labels, y)
    images, labels = next(iter(dm.test_dataloader()))
    np.testing.assert_array_equal(unnormalise(images, dm.mean, dm.std), x)
    np.testing.assert_array_equal(labels.numpy(), y)


def test_cifar100_defaults_are_the_nb201_statistics():
    dm = CIFAR100DataModule(root="unused")
    np.testing.assert_allclose(dm.mean, np.array([129.3, 124.1, 112.4]) / 255)
    np.testing.assert_allclose(dm.std, np.array([68.2, 65.4, 70.4]) / 255)
