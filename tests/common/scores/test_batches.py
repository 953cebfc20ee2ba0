"""Mini-batch sampling for the scores: distinct images, normalisation, TE-NAS crops, and the
real JPEG-copy loader."""

import numpy as np
import pytest
import torch

from common.errors import NasReproError
from common.scores import HIGHER_IS_BETTER, SCORES
from common.scores.batches import ImagePool, load_image_pool, random_crop_flip


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


def test_loads_the_jpeg_copy(shared_file):
    pool = load_image_pool(shared_file("cifar10_yoongikim_jpegq75_small.npz"))
    assert pool.images.shape == (5000, 32, 32, 3) and pool.images.dtype == np.uint8
    assert "JPEG" in pool.data_variant
    with pytest.raises(NasReproError):
        load_image_pool(shared_file("nb201.csv.gz"))


def test_registry():
    assert set(SCORES) == {
        "naswot",
        "ntk_cond",
        "linear_regions",
        "grad_norm",
        "snip",
        "grasp",
        "fisher",
        "jacob_cov",
        "synflow",
    }
    assert HIGHER_IS_BETTER["ntk_cond"] is False and HIGHER_IS_BETTER["synflow"] is True


def test_batches_and_crops_are_contiguous_nchw(pool):
    # Channels-last strides would route CUDA avg-pool backward through the kernel of
    # pytorch/pytorch#188344 (wrong gradients with padding); a DataLoader batch is plain NCHW.
    for augment in (False, True):
        x, _ = pool.batch(np.random.default_rng(0), 4, (0.5,) * 3, (0.25,) * 3, augment)
        assert x.is_contiguous()
    c = pool.crops(np.random.default_rng(0), 5, (0,) * 3, (1,) * 3, size=3, channels=3)
    assert c.is_contiguous()
