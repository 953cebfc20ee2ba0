"""CIFAR-10 and CIFAR-100 from the official "python version" pickles.

Expected layout (what the Toronto tarballs extract to, and what torchvision downloads):
``<root>/cifar-10-batches-py/{data_batch_1..5, test_batch}`` with ``data`` (N x 3072 uint8,
channel-planar RGB 32x32) and ``labels``; ``<root>/cifar-100-python/{train, test}`` with
``data`` and ``fine_labels``. With ``download=True``, ``prepare_data`` lets torchvision fetch
and extract the tarball when the folder is missing. Reading is done here rather than through
``torchvision.datasets.CIFAR10`` because torchvision accepts only files whose MD5 matches the
official release, which would reject the small official-format sets the tests build, and
reports a bad file as a bare ``RuntimeError``; here every problem names its file.
"""

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from common.data.base import ImageDataModule, RawData
from common.errors import NasReproError


def read_cifar_pickle(path: Path, label_key: str, hint: str) -> tuple[np.ndarray, np.ndarray]:
    """One official CIFAR pickle as (uint8 N x 32 x 32 x 3 HWC images, int64 labels)."""
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
    except OSError as e:
        raise NasReproError(f"cannot read {path}: {e.strerror}") from e
    except Exception as e:  # unpickling a damaged file raises almost anything
        raise NasReproError(
            f"corrupt CIFAR file {path}: unpickling failed ({type(e).__name__}); {hint}"
        ) from e
    if isinstance(entry, dict):
        entry = {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}
    if not isinstance(entry, dict) or "data" not in entry or label_key not in entry:
        raise NasReproError(
            f"corrupt CIFAR file {path}: expected a dict with 'data' and '{label_key}'; {hint}"
        )
    data = np.asarray(entry["data"])
    labels = np.asarray(entry[label_key], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise NasReproError(
            f"corrupt CIFAR file {path}: 'data' is {data.dtype} {data.shape}, "
            f"expected uint8 (N, 3072); {hint}"
        )
    if labels.shape != (len(data),):
        raise NasReproError(
            f"corrupt CIFAR file {path}: {len(data)} images but {labels.size} labels; {hint}"
        )
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


class CIFAR10DataModule(ImageDataModule):
    """CIFAR-10 (50,000 train / 10,000 test, 10 classes) from ``cifar-10-batches-py``.

    ``download``: let torchvision fetch the tarball into ``root`` when the folder is missing.
    Other arguments: see ``ImageDataModule``.
    """

    name = "CIFAR-10"
    num_classes = 10
    in_channels = 3
    image_size = 32
    data_variant = "cifar10"
    # DARTS cnn/utils.py _data_transforms_cifar10 (per-channel train statistics).
    default_mean = (0.49139968, 0.48215827, 0.44653124)
    default_std = (0.24703233, 0.24348505, 0.26158768)
    folder = "cifar-10-batches-py"
    train_files = tuple(f"data_batch_{i}" for i in range(1, 6))
    test_files = ("test_batch",)
    label_key = "labels"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    torchvision_name = "CIFAR10"

    def __init__(self, download: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.download = bool(download)

    @property
    def data_dir(self) -> Path:
        return self.root / self.folder

    def _hint(self) -> str:
        return f"download {self.url} and extract it into {self.root}, or set data.download=true"

    def _download(self) -> None:
        if not self.download or self.data_dir.is_dir():
            return
        import torchvision.datasets

        dataset_cls = getattr(torchvision.datasets, self.torchvision_name)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            dataset_cls(str(self.root), train=True, download=True)
        except Exception as e:  # network and archive errors of any kind
            raise NasReproError(
                f"downloading {self.name} into {self.root} failed ({type(e).__name__}: {e}); "
                f"download {self.url} by hand and extract it into {self.root}"
            ) from e

    def _check_files(self) -> None:
        files = [self.data_dir / f for f in self.train_files + self.test_files]
        missing = next((p for p in [self.data_dir, *files] if not p.exists()), None)
        if missing is not None:
            raise NasReproError(
                f"{self.name} not found at {missing} (expected the python-pickle version: "
                f"{self.folder}/{{{', '.join(self.train_files + self.test_files)}}}); "
                f"{self._hint()}"
            )

    def _read(self, files: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        parts = [read_cifar_pickle(self.data_dir / f, self.label_key, self._hint()) for f in files]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _load(self) -> RawData:
        train_images, train_labels = self._read(self.train_files)
        test_images, test_labels = self._read(self.test_files)
        return RawData(train_images, train_labels, test_images, test_labels)


class CIFAR100DataModule(CIFAR10DataModule):
    """CIFAR-100 (50,000 train / 10,000 test, 100 fine classes) from ``cifar-100-python``."""

    name = "CIFAR-100"
    num_classes = 100
    data_variant = "cifar100"
    # NB-201 code, xautodl/datasets/get_dataset_with_transform.py: [129.3, 124.1, 112.4] / 255
    # and [68.2, 65.4, 70.4] / 255.
    default_mean = (129.3 / 255, 124.1 / 255, 112.4 / 255)
    default_std = (68.2 / 255, 65.4 / 255, 70.4 / 255)
    folder = "cifar-100-python"
    train_files = ("train",)
    test_files = ("test",)
    label_key = "fine_labels"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    torchvision_name = "CIFAR100"
