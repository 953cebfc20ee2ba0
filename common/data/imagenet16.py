"""ImageNet16-120: NB-201's 16x16 downsampled ImageNet restricted to the first 120 classes.

Format (Chrabaszcz et al. 2017, "A Downsampled Variant of ImageNet", pickle version, as NB-201
uses it): a directory with ``train_data_batch_1`` .. ``train_data_batch_10`` and ``val_data``,
each a pickled dict with ``data`` (N x 768 uint8, channel-planar RGB: 256 red, 256 green, 256
blue values of a 16x16 image) and ``labels`` (1-based ImageNet class ids, 1..1000).

Semantics follow NB-201's ``ImageNet16`` class (AutoDL-Projects,
``xautodl/datasets/DownsampledImageNet.py``): keep images whose label L satisfies
``1 <= L <= num_classes`` and return ``L - 1``. The official ``val_data`` is the test split;
for 120 classes NB-201 expects 151,700 training and 6,000 test images. NB-201 searches on
CIFAR-100 and ImageNet16-120 with half of the *test* split as validation; this module's
``split="search"`` halves the training set instead (the DARTS protocol), see ``base``.
"""

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from common.data.base import ImageDataModule, RawData
from common.errors import NasReproError

TRAIN_FILES = tuple(f"train_data_batch_{i}" for i in range(1, 11))
TEST_FILES = ("val_data",)
HINT = (
    "get the 16x16 pickle version (Imagenet16_train.zip, Imagenet16_val.zip) from "
    "https://image-net.org/download-images (Downsampled ImageNet) or the NAS-Bench-201 "
    "data link in github.com/D-X-Y/AutoDL-Projects, and extract all 11 files into one folder"
)


def read_imagenet16_pickle(path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One pickle as (uint8 N x 16 x 16 x 3 HWC images, int64 0-based labels < num_classes)."""
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
    except OSError as e:
        raise NasReproError(f"cannot read {path}: {e.strerror}") from e
    except Exception as e:  # unpickling a damaged file raises almost anything
        raise NasReproError(
            f"corrupt ImageNet16 file {path}: unpickling failed ({type(e).__name__}); {HINT}"
        ) from e
    if not isinstance(entry, dict) or "data" not in entry or "labels" not in entry:
        raise NasReproError(
            f"corrupt ImageNet16 file {path}: expected a dict with 'data' and 'labels'"
        )
    data = np.asarray(entry["data"])
    labels = np.asarray(entry["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 16 * 16:
        raise NasReproError(
            f"corrupt ImageNet16 file {path}: 'data' is {data.dtype} {data.shape}, "
            "expected uint8 (N, 768)"
        )
    if labels.shape != (len(data),) or (
        len(labels) and not 1 <= labels.min() <= labels.max() <= 1000
    ):
        raise NasReproError(
            f"corrupt ImageNet16 file {path}: expected {len(data)} labels in 1..1000 (1-based)"
        )
    keep = labels <= num_classes
    images = data[keep].reshape(-1, 3, 16, 16).transpose(0, 2, 3, 1)
    return images, labels[keep] - 1


class ImageNet16DataModule(ImageDataModule):
    """ImageNet16-N (default N=120, NB-201's ImageNet16-120); ``root`` holds the 11 pickles.

    ``num_classes``: keep ImageNet classes 1..N (NB-201 also defines 150 and 200).
    Other arguments: see ``ImageDataModule``.
    """

    name = "ImageNet16"
    in_channels = 3
    image_size = 16
    default_root = "data/ImageNet16"
    # NB-201 code, xautodl/datasets/get_dataset_with_transform.py: [122.68, 116.66, 104.01] /
    # 255 and [63.22, 61.26, 65.09] / 255.
    default_mean = (122.68 / 255, 116.66 / 255, 104.01 / 255)
    default_std = (63.22 / 255, 61.26 / 255, 65.09 / 255)

    def __init__(self, num_classes: int = 120, **kwargs: Any) -> None:
        if not 1 <= int(num_classes) <= 1000:
            raise NasReproError(f"data.num_classes={num_classes} must be in 1..1000")
        self.num_classes = int(num_classes)
        self.name = f"ImageNet16-{self.num_classes}"
        self.data_variant = f"imagenet16-{self.num_classes}"
        super().__init__(**kwargs)

    def _check_files(self) -> None:
        paths = [self.root, *(self.root / f for f in TRAIN_FILES + TEST_FILES)]
        missing = next((p for p in paths if not p.exists()), None)
        if missing is not None:
            raise NasReproError(
                f"{self.name} not found at {missing} (expected the NB-201 ImageNet16 pickles "
                f"train_data_batch_1..10 and val_data in {self.root}); {HINT}"
            )

    def _read(self, files: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        parts = [read_imagenet16_pickle(self.root / f, self.num_classes) for f in files]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _load(self) -> RawData:
        train_images, train_labels = self._read(TRAIN_FILES)
        test_images, test_labels = self._read(TEST_FILES)
        return RawData(train_images, train_labels, test_images, test_labels)
