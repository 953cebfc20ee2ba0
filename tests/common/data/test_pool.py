"""The image pool of the training-free experiments: batch sampling (distinct images,
normalisation), TE-NAS crops, and the pool a data module hands over (the same images in the
same order as its training split, whatever the seed)."""

import numpy as np
import pytest
import torch

from common.data.cifar10_jpeg import SMALL_FILE
from common.data.pool import ImagePool, experiment_pool, random_crop_flip
from common.errors import NasReproError


@pytest.fixture
def pool() -> ImagePool:
    images = np.arange(6 * 4 * 4 * 3, dtype=np.uint8).reshape(6, 4, 4, 3)
    return ImagePool(images, np.arange(6), "test", "memory")


def test_batch_is_distinct_images_normalised(pool):
    x, y = pool.batch(np.random.default_rng(0), 6, mean=(0.5,) * 3, std=(0.25,) * 3)
    assert sorted(y.tolist()) == list(range(6))  # without replacement
    for img, label in zip(x, y, strict=True):
        raw = torch.from_numpy(pool.images[label]).permute(2, 0, 1).float() / 255
        torch.testing.assert_close(img, (raw - 0.5) / 0.25)


def test_crop_flip_keeps_pixels_or_zero_padding():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4) + 1
    out = random_crop_flip(x, np.random.default_rng(1), padding=2)
    assert out.shape == x.shape
    assert set(out.unique().tolist()) <= set(x.unique().tolist()) | {0.0}


def test_crops_pick_one_channel_of_a_patch(pool):
    c = pool.crops(np.random.default_rng(0), 50, mean=(0,) * 3, std=(1 / 255,) * 3, size=3)
    assert c.shape == (50, 1, 3, 3)
    values = set(pool.images.reshape(-1).tolist())
    assert set(c.round().flatten().tolist()) <= {float(v) for v in values}


TRAINING_FREE = [
    "naswot_nb201_cifar10-jpeg_n10",
    "te-nas_nb201_cifar10-jpeg",
    "te-nas_darts-space_cifar10-jpeg_search",
    "zero-cost-proxies_nb201_cifar10-jpeg",
]


@pytest.mark.parametrize("experiment", TRAINING_FREE)
def test_experiments_get_the_stored_training_images_in_order(experiment, shared_file):
    """What the committed records scored (the npz's x_train, in file order) is what each
    training-free experiment's data module hands over, for any seed."""
    path = shared_file(SMALL_FILE)
    with np.load(path) as npz:
        x, y = npz["x_train"], npz["y_train"]
    for seed in (0, 5):
        pool = experiment_pool(experiment, path, [f"seed={seed}"])
        assert pool.images.flags.c_contiguous and pool.images.dtype == np.uint8
        np.testing.assert_array_equal(pool.images, x)
        np.testing.assert_array_equal(pool.labels, y)
    assert "cifar10-jpeg-yoongikim-small, 5000 training images" in pool.data_variant
    assert pool.source == str(path)


def test_experiment_pool_refuses_a_file_its_module_does_not_read(shared_file, tmp_path):
    with pytest.raises(NasReproError, match="not the file of"):
        experiment_pool("naswot_nb201_cifar10-jpeg_n10", shared_file("nb201.csv.gz"))
    with pytest.raises(NasReproError, match="not found"):
        experiment_pool("naswot_nb201_cifar10-jpeg_n10", tmp_path)


def test_batches_and_crops_are_contiguous_nchw(pool):
    # Channels-last strides would route CUDA avg-pool backward through the kernel of
    # pytorch/pytorch#188344 (wrong gradients with padding); a DataLoader batch is plain NCHW.
    for augment in (False, True):
        x, _ = pool.batch(np.random.default_rng(0), 4, (0.5,) * 3, (0.25,) * 3, augment)
        assert x.is_contiguous()
    c = pool.crops(np.random.default_rng(0), 5, (0,) * 3, (1,) * 3, size=3, channels=3)
    assert c.is_contiguous()
