"""ImageNet16-120 on a generated folder in the NB-201 format (the real data is not here)."""

import numpy as np
import pytest

from common.data.imagenet16 import TEST_FILES, TRAIN_FILES, ImageNet16DataModule
from tests.common.data.helpers import dump

LABELS = np.array([1, 2, 60, 119, 120, 121, 500, 1000])  # 1-based ImageNet ids


def write_imagenet16(root, rng):
    """11 pickles of 8 images each; returns {file: (data rows, labels)}."""
    root.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in TRAIN_FILES + TEST_FILES:
        data = rng.integers(0, 256, size=(len(LABELS), 768), dtype=np.uint8)
        labels = rng.permutation(LABELS)
        dump(root / name, {"data": data, "labels": labels.tolist(), "mean": data.mean(0)})
        written[name] = (data, labels)
    return written


@pytest.fixture()
def imagenet16(tmp_path):
    return tmp_path / "ImageNet16", write_imagenet16(
        tmp_path / "ImageNet16", np.random.default_rng(0)
    )


def test_channel_planar_decoding_and_120_class_filter(imagenet16):
    root, written = imagenet16
    dm = ImageNet16DataModule(root=root, split="full", val_fraction=0.0)
    dm.setup()
    assert (dm.num_classes, dm.image_size, dm.data_variant) == (120, 16, "imagenet16-120")
    data, labels = written["val_data"]
    keep = labels <= 120
    assert len(dm.test_set) == keep.sum() == 5
    np.testing.assert_array_equal(dm.test_set.raw_labels, labels[keep] - 1)
    # Pixel (y, x) of channel c is byte c * 256 + y * 16 + x of the row.
    images = dm.test_set.raw_images
    for k, row in enumerate(data[keep]):
        for c, y, x in [(0, 0, 0), (1, 3, 7), (2, 15, 15), (0, 15, 0), (2, 0, 15)]:
            assert images[k, y, x, c] == row[c * 256 + y * 16 + x]
    assert len(dm.train_set) == 10 * 5
    assert dm.train_set.raw_labels.min() == 0 and dm.train_set.raw_labels.max() == 119


def test_other_class_counts(imagenet16):
    root, _ = imagenet16
    dm = ImageNet16DataModule(root=root, num_classes=1000, split="full", val_fraction=0.0)
    dm.setup()
    assert len(dm.test_set) == len(LABELS) and dm.test_set.raw_labels.max() == 999
    assert dm.data_variant == "imagenet16-1000"
