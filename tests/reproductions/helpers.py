"""Helpers shared by the reproduction tests."""

import numpy as np

from common.data.pool import ImagePool


def random_image_pool(n: int = 64, size: int = 8) -> ImagePool:
    """``n`` random uint8 RGB images of ``size`` x ``size`` (seed 0), labels ``i % 10``: a
    stand-in image set for stage tests whose scores are faked or only need shapes."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (n, size, size, 3), dtype=np.uint8)
    return ImagePool(images, np.arange(n) % 10, "random test images", "memory")
