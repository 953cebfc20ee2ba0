"""An image pool: a data module's training images as uint8 arrays, from which the training-free
experiments draw their own inputs the way each paper's data loader draws them: random training
images (a shuffled loader's first batch), with or without the NB-201/DARTS augmentation,
normalised with the statistics that paper's code uses; and TE-NAS's random single-channel crops
for counting linear regions. All transforms are done here on whole batches, seeded by a
``numpy`` generator, so a run's inputs depend on its run seed alone.

The pool comes from a ``conf/data`` data module (``training_pool(cfg.data)``, i.e.
``ImageDataModule.train_pool()``): the same images, in the same order, as its training split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from common.errors import NasReproError

# CIFAR-10 statistics of the xautodl loaders that NASWOT (datasets/get_dataset_with_transform.py)
# and TE-NAS (lib/datasets/get_dataset_with_transform.py) both use.
CIFAR10_MEAN_XAUTODL = tuple(x / 255 for x in (125.3, 123.0, 113.9))
CIFAR10_STD_XAUTODL = tuple(x / 255 for x in (63.0, 62.1, 66.7))
# zero-cost-nas foresight/dataset.py get_cifar_dataloaders (the widespread "0.2023" std).
CIFAR10_MEAN_ZC = (0.4914, 0.4822, 0.4465)
CIFAR10_STD_ZC = (0.2023, 0.1994, 0.2010)


@dataclass(frozen=True)
class ImagePool:
    """uint8 training images (N, H, W, C) and labels, plus where they came from."""

    images: np.ndarray
    labels: np.ndarray
    data_variant: str
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def batch(
        self,
        rng: np.random.Generator,
        size: int,
        mean: Sequence[float],
        std: Sequence[float],
        augment: bool = False,
        padding: int = 4,
        device: str | torch.device = "cpu",
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``size`` distinct random images, float NCHW normalised; labels int64.

        ``augment``: zero-padded random crop (``padding``) and horizontal flip, as
        ``RandomCrop(32, padding=4)`` + ``RandomHorizontalFlip`` on the [0, 1] image.
        """
        idx = rng.choice(len(self), size=size, replace=False)
        x = to_nchw(self.images[idx])
        if augment:
            x = random_crop_flip(x, rng, padding)
        x = normalize(x, mean, std)
        y = torch.from_numpy(self.labels[idx].astype(np.int64))
        return x.to(device), y.to(device)

    def crops(
        self,
        rng: np.random.Generator,
        count: int,
        mean: Sequence[float],
        std: Sequence[float],
        size: int = 3,
        channels: int = 1,
        device: str | torch.device = "cpu",
    ) -> torch.Tensor:
        """TE-NAS's linear-region inputs: per sample a random image, a random ``size`` x
        ``size`` crop (``RandomCrop(size, padding=0)``), normalisation, then ``channels``
        channels picked at random in increasing order (``RandChannel``)."""
        n, h, w, c = self.images.shape
        idx = rng.integers(0, n, count)
        top = rng.integers(0, h - size + 1, count)
        left = rng.integers(0, w - size + 1, count)
        rows = top[:, None] + np.arange(size)[None, :]
        cols = left[:, None] + np.arange(size)[None, :]
        patches = self.images[idx[:, None, None], rows[:, :, None], cols[:, None, :]]
        x = to_nchw(patches)
        x = normalize(x, mean, std)
        pick = np.sort(np.argsort(rng.random((count, c)), axis=1)[:, :channels], axis=1)
        x = torch.gather(x, 1, torch.from_numpy(pick)[:, :, None, None].expand(-1, -1, size, size))
        return x.to(device)


def to_nchw(images: np.ndarray) -> torch.Tensor:
    """uint8 NHWC images as a contiguous float NCHW tensor in [0, 1], as ``ToTensor`` + collate.

    A bare ``permute`` would leave channels-last strides, which every later op keeps. On CUDA
    with PyTorch before the fix of pytorch/pytorch#188344 (2026-06; 2.11 is affected) the
    channels-last backward of ``avg_pool2d`` with padding is silently wrong, and NB-201's
    ``avg_pool_3x3`` has padding 1: gradient scores (zero-cost proxies, TE-NAS's NTK) of
    pooling cells came out up to 3.9x off there.
    """
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().float().div_(255.0)


def normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    m = torch.tensor(mean, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - m) / s


def random_crop_flip(x: torch.Tensor, rng: np.random.Generator, padding: int) -> torch.Tensor:
    """Per image: zero-pad by ``padding``, crop back at a random offset, flip with p = 1/2."""
    n, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (padding,) * 4)
    dy = rng.integers(0, 2 * padding + 1, n)
    dx = rng.integers(0, 2 * padding + 1, n)
    flip = rng.random(n) < 0.5
    out = torch.empty_like(x)
    for i in range(n):
        crop = padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w]
        out[i] = crop.flip(-1) if flip[i] else crop
    return out


def training_pool(data: DictConfig) -> ImagePool:
    """The training split of the data module a ``conf/data`` node describes, as a pool."""
    return instantiate(data).train_pool()


def experiment_pool(
    experiment: str, data: str | Path | None = None, overrides: Sequence[str] = ()
) -> ImagePool:
    """The pool of ``experiment``'s data module, composed as a run composes it: for scripts that
    replay an experiment's draws without a Hydra run. ``data``: the folder holding the images
    (``data_root``), or the image file itself, which must be the one the module reads."""
    from hydra import compose, initialize_config_dir

    path = None if data is None else Path(data).expanduser()
    if path is not None:
        root = path.parent if path.is_file() else path
        overrides = [f"data_root={root}", *overrides]
    conf = Path(__file__).resolve().parents[2] / "conf"
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={experiment}", *overrides])
    if cfg.get("data") is None:
        raise NasReproError(f"experiment {experiment!r} has no data module (conf/data)")
    pool = training_pool(cfg.data)
    if path is not None and path.is_file() and Path(pool.source).name != path.name:
        raise NasReproError(
            f"{path} is not the file of {experiment}'s data module ({Path(pool.source).name}); "
            "pass the folder, and another data module with data=<name>"
        )
    return pool
