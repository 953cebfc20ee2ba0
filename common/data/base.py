"""The shared LightningDataModule: in-memory image sets, the project's three split modes, loaders.

Each dataset module only says where its files are and how to read them into uint8 arrays
(``_check_files`` and ``_load``); everything a paper protocol decides lives here and in config:

- ``split="search"``: the DARTS / NB-201 search split. The official training set (after
  ``max_train_samples``) is halved, seeded and stratified; ``train_dataloader()`` gives the
  first half (network weights), ``val_dataloader()`` the second (architecture updates). Both
  halves use the *training* transform and are shuffled, as DARTS' ``train_search.py`` builds
  both queues from ``train_data`` with ``train_transform`` (``train_portion=0.5``). DARTS
  itself halves the training set in file order; here the halves are stratified.
- ``split="train_val"``: a seeded, stratified ``val_fraction`` of the training set is held
  out and evaluated without augmentation.
- ``split="full"``: all of the training set trains; ``val_dataloader()`` holds out
  ``val_fraction`` as in ``train_val`` when it is > 0 and is empty otherwise. It never returns
  the test set: selecting on test images is what these protocols forbid.

``test_dataloader()`` is always the official test split (``max_eval_samples`` may subsample
it, and a held-out validation set, for CPU-scale runs). ``train_pool()`` hands the training
split as stored to the training-free scores. Shuffling uses a generator seeded by ``seed``,
so a run's data order does not depend on the global RNG; the configs set ``seed: ${seed}``,
so the run seed reaches the split and the shuffling unless an experiment pins ``data.seed``.
``split_seed`` (default: ``seed``) seeds only the subsets and splits: a protocol whose split
is fixed while its data order follows the run seed (DARTS's ``train_search.py``) pins it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from common.data.pool import ImagePool
from common.data.splits import (
    STREAM_EVAL_SUBSET,
    STREAM_SPLIT,
    STREAM_TRAIN_SUBSET,
    rng_for,
    stratified_halves,
    stratified_split,
    stratified_subset,
)
from common.data.transforms import eval_transform, train_transform
from common.errors import NasReproError, choices_error

SPLITS = ("search", "train_val", "full")


@dataclass(frozen=True)
class RawData:
    """A dataset's official train and test split: uint8 (N, H, W, C) images, int64 labels."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


class ArrayDataset(Dataset):
    """Selected rows of a uint8 (N, H, W, C) array; items are (transform(x), label).

    ``x`` is a float CHW tensor in [0, 1] (pixel / ``max_value``) before the transform.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        indices: np.ndarray | None = None,
        transform: Any = None,
        max_value: float = 255.0,
    ) -> None:
        self.images = images
        self.labels = labels
        self.indices = np.arange(len(labels)) if indices is None else np.asarray(indices)
        self.transform = transform
        self.max_value = max_value

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        j = self.indices[i]
        x = torch.from_numpy(self.images[j]).permute(2, 0, 1).float().div_(self.max_value)
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.labels[j])

    @property
    def raw_images(self) -> np.ndarray:
        """The selected images as stored (uint8 HWC), without any transform."""
        return self.images[self.indices]

    @property
    def raw_labels(self) -> np.ndarray:
        return self.labels[self.indices]


class ImageDataModule(L.LightningDataModule):
    """Base class; subclasses set the class attributes and implement the file hooks.

    ``mean``/``std``/``root`` left as None take the dataset's published defaults
    (``default_mean``, ``default_std``, ``default_root``); configs set them explicitly.
    """

    name: str = ""  # human name used in messages, e.g. "CIFAR-10"
    num_classes: int = 0
    in_channels: int = 3
    image_size: int = 32
    data_variant: str = ""  # goes into result records, e.g. "cifar10-jpeg-yoongikim"
    max_value: float = 255.0
    default_root: str = "data"
    default_mean: tuple[float, ...] = ()
    default_std: tuple[float, ...] = ()

    def __init__(
        self,
        root: str | Path | None = None,
        batch_size: int = 64,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        split: str = "train_val",
        split_seed: int | None = None,
        val_fraction: float = 0.1,
        max_train_samples: int | None = None,
        max_eval_samples: int | None = None,
        augment: bool = True,
        crop_padding: int = 4,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        cutout: int = 0,
    ) -> None:
        super().__init__()
        self.root = Path(self.default_root if root is None else root).expanduser()
        self.batch_size = int(batch_size)
        self.eval_batch_size = int(batch_size if eval_batch_size is None else eval_batch_size)
        self.num_workers = int(num_workers)
        self.seed = int(seed)
        self.split_seed = self.seed if split_seed is None else int(split_seed)
        self.split = split
        self.val_fraction = float(val_fraction)
        self.max_train_samples = max_train_samples
        self.max_eval_samples = max_eval_samples
        self.augment = bool(augment)
        self.crop_padding = int(crop_padding)
        self.mean = tuple(float(m) for m in (self.default_mean if mean is None else mean))
        self.std = tuple(float(s) for s in (self.default_std if std is None else std))
        self.cutout = int(cutout)
        self._check_args()
        self.train_set: ArrayDataset | None = None
        self.val_set: ArrayDataset | None = None
        self.test_set: ArrayDataset | None = None

    def _check_args(self) -> None:
        if self.split not in SPLITS:
            raise choices_error("data.split", self.split, SPLITS)
        if not 0.0 <= self.val_fraction < 1.0:
            raise NasReproError(f"data.val_fraction={self.val_fraction} must be in [0, 1)")
        if self.split == "train_val" and self.val_fraction == 0.0:
            raise NasReproError(
                "data.split=train_val needs data.val_fraction > 0 (or use data.split=full)"
            )
        for key in ("batch_size", "eval_batch_size"):
            if getattr(self, key) < 1:
                raise NasReproError(f"data.{key}={getattr(self, key)} must be >= 1")
        for key in ("max_train_samples", "max_eval_samples"):
            value = getattr(self, key)
            if value is not None and int(value) < 1:
                raise NasReproError(f"data.{key}={value} must be >= 1 or null")
        if self.num_workers < 0 or self.cutout < 0 or self.crop_padding < 0:
            raise NasReproError("data.num_workers, data.cutout, data.crop_padding must be >= 0")
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels:
            raise NasReproError(
                f"data.mean and data.std need {self.in_channels} values for {self.name}, "
                f"got {len(self.mean)} and {len(self.std)}"
            )
        if min(self.std) <= 0:
            raise NasReproError(f"data.std must be positive, got {self.std}")

    # Hooks for subclasses ---------------------------------------------------------------------

    def _download(self) -> None:
        """Fetch the files when the dataset supports it and the user asked for it."""

    def _check_files(self) -> None:
        """Raise ``NasReproError`` naming the missing path, its format and where to get it."""
        raise NotImplementedError

    def _load(self) -> RawData:
        """Read and validate the files; raise ``NasReproError`` naming a corrupt file."""
        raise NotImplementedError

    @property
    def source(self) -> Path:
        """The file or folder the data comes from, named in error messages."""
        return self.root

    # LightningDataModule ----------------------------------------------------------------------

    def prepare_data(self) -> None:
        self._download()
        self._check_files()

    def setup(self, stage: str | None = None) -> None:
        if self.test_set is not None:
            return
        self._check_files()
        raw = self._validated(self._load())
        train_pool = np.arange(len(raw.train_labels))
        if self.max_train_samples is not None:
            rng = rng_for(self.split_seed, STREAM_TRAIN_SUBSET)
            train_pool = stratified_subset(raw.train_labels, int(self.max_train_samples), rng)
        pool_labels = raw.train_labels[train_pool]
        train_tf = train_transform(
            self.image_size, self.augment, self.crop_padding, self.mean, self.std, self.cutout
        )
        eval_tf = eval_transform(self.mean, self.std)

        def dataset(images: np.ndarray, labels: np.ndarray, idx: np.ndarray, tf: Any):
            return ArrayDataset(images, labels, idx, tf, self.max_value)

        if self.split == "search":
            first, second = stratified_halves(pool_labels, self.split_seed)
            self.train_set = dataset(
                raw.train_images, raw.train_labels, train_pool[first], train_tf
            )
            self.val_set = dataset(raw.train_images, raw.train_labels, train_pool[second], train_tf)
        elif self.val_fraction > 0:
            n_held = round(len(pool_labels) * self.val_fraction)
            kept, held = stratified_split(
                pool_labels, n_held, rng_for(self.split_seed, STREAM_SPLIT)
            )
            held = self._eval_subset(train_pool[held], raw.train_labels)
            self.train_set = dataset(raw.train_images, raw.train_labels, train_pool[kept], train_tf)
            self.val_set = dataset(raw.train_images, raw.train_labels, held, eval_tf)
        else:
            self.train_set = dataset(raw.train_images, raw.train_labels, train_pool, train_tf)
            self.val_set = None
        test_idx = self._eval_subset(np.arange(len(raw.test_labels)), raw.test_labels)
        self.test_set = dataset(raw.test_images, raw.test_labels, test_idx, eval_tf)

    def train_dataloader(self) -> DataLoader:
        self._require_setup()
        return self._loader(self.train_set, self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        """The architecture half (search), a held-out validation set, or ``[]`` for none."""
        self._require_setup()
        if self.val_set is None:
            return []
        if self.split == "search":
            return self._loader(self.val_set, self.batch_size, shuffle=True)
        return self._loader(self.val_set, self.eval_batch_size, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        self._require_setup()
        return self._loader(self.test_set, self.eval_batch_size, shuffle=False)

    # Helpers ----------------------------------------------------------------------------------

    def train_pool(self) -> ImagePool:
        """The training split as stored (uint8 NHWC images, labels), in split order: the input
        of the training-free scores, which draw and transform their own batches from it."""
        self._require_setup()
        train = self.train_set
        return ImagePool(
            np.ascontiguousarray(train.raw_images),
            train.raw_labels.astype(np.int64),
            data_variant=f"{self.name}: {self.data_variant}, {len(train)} training images",
            source=str(self.source),
        )

    def record(self) -> dict[str, Any]:
        """Fields a run record stores about the data (variant, protocol, sizes)."""
        self._require_setup()
        return {
            "data_variant": self.data_variant,
            "split": self.split,
            "val_fraction": self.val_fraction if self.split != "search" else 0.5,
            "seed": self.seed,
            "split_seed": self.split_seed,
            "n_train": len(self.train_set),
            "n_val": 0 if self.val_set is None else len(self.val_set),
            "n_test": len(self.test_set),
            "reduced": self.max_train_samples is not None or self.max_eval_samples is not None,
        }

    def _require_setup(self) -> None:
        if self.test_set is None:
            self.setup()

    def _eval_subset(self, idx: np.ndarray, labels: np.ndarray) -> np.ndarray:
        if self.max_eval_samples is None:
            return idx
        rng = rng_for(self.split_seed, STREAM_EVAL_SUBSET)
        return idx[stratified_subset(labels[idx], int(self.max_eval_samples), rng)]

    def _loader(self, dataset: ArrayDataset, batch_size: int, shuffle: bool) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
            generator=torch.Generator().manual_seed(self.seed) if shuffle else None,
        )

    def _validated(self, raw: RawData) -> RawData:
        expected = (self.image_size, self.image_size, self.in_channels)
        parts = {}
        for part in ("train", "test"):
            images = getattr(raw, f"{part}_images")
            labels = np.asarray(getattr(raw, f"{part}_labels"), dtype=np.int64)
            if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != expected:
                raise NasReproError(
                    f"{self.name} {part} images in {self.source} have shape {images.shape} "
                    f"({images.dtype}); expected (N, {', '.join(map(str, expected))}) uint8"
                )
            if len(labels) != len(images) or len(labels) == 0:
                raise NasReproError(
                    f"{self.name} {part} split in {self.source} has {len(images)} images "
                    f"and {len(labels)} labels"
                )
            if labels.min() < 0 or labels.max() >= self.num_classes:
                raise NasReproError(
                    f"{self.name} {part} labels in {self.source} span "
                    f"{labels.min()}..{labels.max()}; expected 0..{self.num_classes - 1}"
                )
            parts[f"{part}_images"] = np.require(images, requirements=("C", "W"))
            parts[f"{part}_labels"] = labels
        return RawData(**parts)
