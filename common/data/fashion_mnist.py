"""Fashion-MNIST (Xiao et al. 2017) from the original IDX files, gzipped or not.

``root`` holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each optionally with ``.gz``: the
layout of the zalandoresearch/fashion-mnist release and of the Debian package
``dataset-fashion-mnist``, which installs the four ``.gz`` files in
``/usr/share/datasets/fashion-mnist`` (the default root).
"""

import gzip
from pathlib import Path

import numpy as np

from common.data.base import ImageDataModule, RawData
from common.errors import NasReproError

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
HINT = (
    "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) "
    "or download the four files from https://github.com/zalandoresearch/fashion-mnist"
)


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """A uint8 IDX array (magic 0x0000080N, big-endian int32 dims), gzip detected by suffix."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise NasReproError(f"corrupt IDX file {path}: {type(e).__name__}: {e}") from e
    header = 4 + 4 * ndim
    if len(raw) < header or raw[:3] != b"\x00\x00\x08" or raw[3] != ndim:
        raise NasReproError(
            f"corrupt IDX file {path}: expected a uint8 IDX header with {ndim} dimensions"
        )
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) - header != int(np.prod(dims)):
        raise NasReproError(
            f"corrupt IDX file {path}: header says {dims} but holds {len(raw) - header} bytes"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


class FashionMNISTDataModule(ImageDataModule):
    """Fashion-MNIST: 60,000 train / 10,000 test grey 28x28 images, 10 classes.

    Arguments: see ``ImageDataModule``.
    """

    name = "Fashion-MNIST"
    num_classes = 10
    in_channels = 1
    image_size = 28
    data_variant = "fashion-mnist"
    default_root = "/usr/share/datasets/fashion-mnist"
    # Computed on the 60,000 training images (pixel / 255); no NAS paper fixes these.
    default_mean = (0.2860,)
    default_std = (0.3530,)

    def _path(self, key: str) -> Path:
        """The existing file for ``key`` (plain or .gz); the plain name when neither exists."""
        plain = self.root / FILES[key]
        gz = plain.with_name(plain.name + ".gz")
        return gz if gz.exists() and not plain.exists() else plain

    def _check_files(self) -> None:
        if not self.root.is_dir():
            raise NasReproError(f"Fashion-MNIST not found at {self.root}; {HINT}")
        for key in FILES:
            path = self._path(key)
            if not path.exists():
                raise NasReproError(
                    f"Fashion-MNIST not found at {path}(.gz) (expected the original IDX "
                    f"files {', '.join(FILES.values())}, optionally gzipped); {HINT}"
                )

    def _load(self) -> RawData:
        arrays = {}
        for key in FILES:
            arr = read_idx(self._path(key), 3 if key.endswith("images") else 1)
            arrays[key] = arr[..., None] if key.endswith("images") else arr.astype(np.int64)
        for part in ("train", "test"):
            if len(arrays[f"{part}_images"]) != len(arrays[f"{part}_labels"]):
                raise NasReproError(
                    f"Fashion-MNIST {part} files in {self.root} disagree: "
                    f"{len(arrays[f'{part}_images'])} images, "
                    f"{len(arrays[f'{part}_labels'])} labels"
                )
        return RawData(**arrays)
