"""ImageNet (ILSVRC-2012) in the standard ImageFolder layout, streamed from disk.

Layout (the one both official codes read, SPOS ``src/Supernet/train.py`` and FairNAS
``dataloader.py``): ``root/train/<wnid>/*.JPEG`` (1,281,167 images in 1,000 class folders) and
``root/val/<wnid>/*.JPEG`` (the 50,000 validation images sorted into the same class folders,
e.g. by ``valprep.sh``). The 1.28M images are never held in memory: one scan of the file names
(torchvision's ``ImageFolder``), then each item is decoded when a loader asks for it.

Splits, as the project's other data modules (``common.data.base``) but with ImageNet's
protocol:

- ``split="search"``: ``val_per_class`` images of every class are held out of the training set
  (seeded; SPOS holds out 50 a class, 50,000 images, to score candidates and measure the
  supernet, and trains the supernet on the rest). ``train_dataloader()`` gives the rest with
  the training transform, ``val_dataloader()`` the held-out images with the evaluation
  transform: a search only evaluates them (no gradient is taken on them), unlike DARTS's
  architecture half.
- ``split="full"``: the whole training set trains (a retrain); ``val_dataloader()`` is empty.

``test_dataloader()`` is always the official validation set, ImageNet's test set in every
paper. ``max_train_samples`` / ``max_eval_samples`` take seeded class-balanced subsets (CPU-scale
runs; the held-out part is drawn first, so it does not depend on them). Transforms are config
(Hydra-instantiated torchvision pipelines, ``conf/data/imagenet.yaml``); ``ToBGRTensor`` and
``OpenCVResize`` give SPOS's official pipeline (BGR, 0..255, no normalisation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset
from torchvision.datasets import ImageFolder
from torchvision.datasets.folder import default_loader

from common.data.splits import (
    STREAM_EVAL_SUBSET,
    STREAM_SPLIT,
    STREAM_TRAIN_SUBSET,
    rng_for,
    stratified_subset,
)
from common.errors import NasReproError, choices_error

SPLITS = ("search", "full")
STREAM_FIXED_BATCHES = 5  # a seed stream of its own (common.data.splits uses 1..4)
RESIZE_BACKENDS = ("opencv", "torch")
LAYOUT = "{root}/train/<wnid>/*.JPEG and {root}/val/<wnid>/*.JPEG"
HINT = (
    "get ILSVRC2012 from image-net.org and sort the validation images into class folders "
    "(valprep.sh from soumith/imagenetloader.torch, as the SPOS README says)"
)


class ImageFiles(Dataset):
    """Selected ``(path, label)`` rows of an ``ImageFolder`` scan, decoded on access (PIL RGB,
    torchvision's ``default_loader``) and passed through ``transform``."""

    def __init__(
        self, samples: Sequence[tuple[str, int]], indices: np.ndarray, transform: Callable | None
    ) -> None:
        self.samples = samples
        self.indices = np.asarray(indices, dtype=np.int64)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[Any, int]:
        path, label = self.samples[int(self.indices[i])]
        image = default_loader(path)
        return (image if self.transform is None else self.transform(image)), int(label)

    @property
    def labels(self) -> np.ndarray:
        return np.asarray([self.samples[int(j)][1] for j in self.indices], dtype=np.int64)


class ToBGRTensor:
    """SPOS's ``ToBGRTensor`` (``src/Supernet/train.py``): a PIL RGB image as a float CHW tensor
    in BGR order with values 0..255, no normalisation (the official networks' input)."""

    def __call__(self, image: Image.Image) -> torch.Tensor:
        array = np.ascontiguousarray(np.asarray(image)[:, :, ::-1].transpose(2, 0, 1))
        return torch.from_numpy(array).float()

    def __repr__(self) -> str:
        return "ToBGRTensor()"


class OpenCVResize:
    """SPOS's ``OpencvResize(256)`` (``src/Supernet/train.py``): the short side to ``size``, the
    long side to ``int(size * long / short + 0.5)``, bilinear without antialiasing
    (``cv2.INTER_LINEAR``). ``backend="opencv"`` needs ``opencv-python-headless``;
    ``backend="torch"`` interpolates the same grid with ``F.interpolate`` (half-pixel centres,
    no antialiasing) and rounds, which differs from OpenCV's fixed-point arithmetic by at most a
    grey level or two (tests/common/data/test_imagenet.py measures it where cv2 exists)."""

    def __init__(self, size: int = 256, backend: str = "opencv") -> None:
        if backend not in RESIZE_BACKENDS:
            raise choices_error("resize backend", backend, RESIZE_BACKENDS)
        if backend == "opencv":
            try:
                import cv2  # noqa: F401
            except ImportError as e:
                raise NasReproError(
                    "OpenCVResize(backend=opencv) needs OpenCV: pip install opencv-python-headless,"
                    " or resize in torch: data.eval_transform.transforms.0.backend=torch (SPOS README)"
                ) from e
        self.size = int(size)
        self.backend = backend

    def target_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) after resizing, the official formula."""
        if height < width:
            return self.size, int(self.size / height * width + 0.5)
        return int(self.size / width * height + 0.5), self.size

    def __call__(self, image: Image.Image) -> Image.Image:
        array = np.asarray(image.convert("RGB"))
        h, w = self.target_size(*array.shape[:2])
        if self.backend == "opencv":
            import cv2

            return Image.fromarray(cv2.resize(array, (w, h), interpolation=cv2.INTER_LINEAR))
        x = torch.from_numpy(np.array(array)).permute(2, 0, 1)[None].float()
        y = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=False)
        out = y.round_().clamp_(0, 255).to(torch.uint8)[0].permute(1, 2, 0).numpy()
        return Image.fromarray(np.ascontiguousarray(out))

    def __repr__(self) -> str:
        return f"OpenCVResize(size={self.size}, backend={self.backend!r})"


def per_class_holdout(
    labels: np.ndarray, per_class: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held) positions with exactly ``per_class`` of every class held (SPOS: 50 of each
    ImageNet class); both sorted. A class with no image left to train on is an error."""
    labels = np.asarray(labels)
    held = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) <= per_class:
            raise NasReproError(
                f"ImageNet class {c} has {len(members)} training images; holding out "
                f"data.val_per_class={per_class} would leave none to train on"
            )
        held[rng.permutation(members)[:per_class]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


class ImageNetDataModule(L.LightningDataModule):
    """ImageNet from ``root`` (see the module docstring for the layout and the splits).

    ``train_transform`` / ``eval_transform``: callables on PIL images (the config builds them);
    ``num_classes``: the number of class folders expected (``None``: as found);
    ``val_per_class``: images of each class held out by ``split="search"``.
    """

    name = "ImageNet"
    in_channels = 3

    def __init__(
        self,
        root: str | Path,
        train_transform: Callable,
        eval_transform: Callable,
        batch_size: int = 256,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        split: str = "full",
        split_seed: int | None = None,
        val_per_class: int = 50,
        max_train_samples: int | None = None,
        max_eval_samples: int | None = None,
        num_classes: int | None = 1000,
        data_variant: str = "imagenet-1k",
        drop_last: bool = False,
    ) -> None:
        super().__init__()
        if split not in SPLITS:
            raise choices_error("data.split", split, SPLITS)
        for key, value in (("batch_size", batch_size), ("val_per_class", val_per_class)):
            if int(value) < 1:
                raise NasReproError(f"data.{key}={value} must be >= 1")
        self.root = Path(root).expanduser()
        self.train_transform, self.eval_transform = train_transform, eval_transform
        self.batch_size = int(batch_size)
        self.eval_batch_size = int(batch_size if eval_batch_size is None else eval_batch_size)
        self.num_workers = int(num_workers)
        self.seed = int(seed)
        self.split_seed = self.seed if split_seed is None else int(split_seed)
        self.split = split
        self.val_per_class = int(val_per_class)
        self.max_train_samples = max_train_samples
        self.max_eval_samples = max_eval_samples
        self.expected_classes = num_classes
        self.num_classes = 0 if num_classes is None else int(num_classes)
        self.data_variant = data_variant
        self.drop_last = bool(drop_last)
        self.classes: list[str] = []
        self.train_set: ImageFiles | None = None
        self.val_set: ImageFiles | None = None
        self.test_set: ImageFiles | None = None
        self._train_samples: list[tuple[str, int]] = []

    # LightningDataModule ----------------------------------------------------------------------

    def prepare_data(self) -> None:
        self._check_files()

    def setup(self, stage: str | None = None) -> None:
        if self.test_set is not None:
            return
        self._check_files()
        train, val = self._scan("train"), self._scan("val")
        if val.classes != train.classes:
            missing = sorted(set(train.classes) ^ set(val.classes))[:3]
            raise NasReproError(
                f"ImageNet class folders of {self.root}/val differ from train/ (e.g. {missing});"
                f" both must hold the same <wnid> folders; {HINT}"
            )
        if self.expected_classes is not None and len(train.classes) != self.expected_classes:
            raise NasReproError(
                f"ImageNet at {self.root} has {len(train.classes)} class folders, expected "
                f"data.num_classes={self.expected_classes}"
            )
        self.classes, self.num_classes = list(train.classes), len(train.classes)
        self._train_samples = train.samples
        labels = np.asarray(train.targets, dtype=np.int64)
        kept, held = np.arange(len(labels)), None
        if self.split == "search":
            kept, held = per_class_holdout(
                labels, self.val_per_class, rng_for(self.split_seed, STREAM_SPLIT)
            )
        if self.max_train_samples is not None:
            rng = rng_for(self.split_seed, STREAM_TRAIN_SUBSET)
            kept = kept[stratified_subset(labels[kept], int(self.max_train_samples), rng)]
        self.train_set = ImageFiles(train.samples, kept, self.train_transform)
        if held is not None:
            self.val_set = ImageFiles(
                train.samples, self._eval_subset(held, labels), self.eval_transform
            )
        val_labels = np.asarray(val.targets, dtype=np.int64)
        test_idx = self._eval_subset(np.arange(len(val_labels)), val_labels)
        self.test_set = ImageFiles(val.samples, test_idx, self.eval_transform)

    def train_dataloader(self) -> DataLoader:
        self._require_setup()
        return self._loader(self.train_set, self.batch_size, True, self.drop_last)

    def val_dataloader(self) -> DataLoader | list:
        """The held-out part of the training set (``search``), or ``[]`` (``full``)."""
        self._require_setup()
        if self.val_set is None:
            return []
        return self._loader(self.val_set, self.eval_batch_size, False)

    def test_dataloader(self) -> DataLoader:
        self._require_setup()
        return self._loader(self.test_set, self.eval_batch_size, False)

    # Helpers ----------------------------------------------------------------------------------

    def fixed_loader(self, part: str, num_batches: int, batch_size: int, seed: int) -> DataLoader:
        """``num_batches`` batches of a seeded random subset of ``part``, in a fixed order:
        ``"train"`` with the training transform (SPOS ``Search/tester.py`` re-estimates batch
        norm on augmented training batches; the augmentation is drawn anew on every pass),
        ``"val"`` the held-out images with the evaluation transform (candidate scores)."""
        self._require_setup()
        source = {"train": self.train_set, "val": self.val_set}.get(part)
        if source is None:
            raise NasReproError(f"no {part!r} part to draw fixed batches from (split={self.split})")
        n = num_batches * batch_size
        order = rng_for(seed, STREAM_FIXED_BATCHES).permutation(len(source))[:n]
        subset = ImageFiles(source.samples, source.indices[np.sort(order)], source.transform)
        return self._loader(subset, batch_size, False)

    def record(self) -> dict[str, Any]:
        """Fields a run record stores about the data (variant, protocol, sizes, transforms)."""
        self._require_setup()
        return {
            "data_variant": self.data_variant,
            "split": self.split,
            "val_per_class": self.val_per_class if self.split == "search" else 0,
            "seed": self.seed,
            "split_seed": self.split_seed,
            "n_train": len(self.train_set),
            "n_val": 0 if self.val_set is None else len(self.val_set),
            "n_test": len(self.test_set),
            "num_classes": self.num_classes,
            "train_transform": repr(self.train_transform),
            "eval_transform": repr(self.eval_transform),
            "reduced": self.max_train_samples is not None or self.max_eval_samples is not None,
        }

    def _check_files(self) -> None:
        for part in ("train", "val"):
            if not (self.root / part).is_dir():
                raise NasReproError(
                    f"ImageNet not found: {self.root / part} is missing; expected the ImageFolder "
                    f"layout {LAYOUT.format(root=self.root)}; {HINT}"
                )

    def _scan(self, part: str) -> ImageFolder:
        try:
            return ImageFolder(str(self.root / part))
        except (FileNotFoundError, OSError) as e:
            raise NasReproError(
                f"ImageNet {self.root / part} has no class folders with images ({e}); expected "
                f"{LAYOUT.format(root=self.root)}; {HINT}"
            ) from e

    def _require_setup(self) -> None:
        if self.test_set is None:
            self.setup()

    def _eval_subset(self, idx: np.ndarray, labels: np.ndarray) -> np.ndarray:
        if self.max_eval_samples is None:
            return idx
        rng = rng_for(self.split_seed, STREAM_EVAL_SUBSET)
        return idx[stratified_subset(labels[idx], int(self.max_eval_samples), rng)]

    def _loader(
        self, dataset: Dataset, batch_size: int, shuffle: bool, drop_last: bool = False
    ) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=drop_last,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
            generator=torch.Generator().manual_seed(self.seed) if shuffle else None,
        )
