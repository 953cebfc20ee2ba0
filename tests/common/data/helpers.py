"""Builders of small official-format dataset folders from real (or generated) arrays."""

import pickle
from pathlib import Path

import numpy as np
import torch


def planar(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 3) -> (N, 3*H*W) channel-planar rows, the CIFAR / ImageNet16 layout."""
    return images.transpose(0, 3, 1, 2).reshape(len(images), -1)


def dump(path: Path, obj: object) -> None:
    path.write_bytes(pickle.dumps(obj, protocol=2))


def write_cifar10(root: Path, x_test: np.ndarray, y_test: np.ndarray) -> Path:
    """``root/cifar-10-batches-py`` with ``test_batch`` = the given images, and 5 tiny train
    batches of 4 images each (the same images, so the train set is real too)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i in range(5):
        part = slice(4 * i, 4 * i + 4)
        dump(
            folder / f"data_batch_{i + 1}",
            {
                "batch_label": f"training batch {i + 1} of 5",
                "labels": [int(v) for v in y_test[part]],
                "data": planar(x_test[part]),
                "filenames": [f"train_{k}.png" for k in range(4)],
            },
        )
    dump(
        folder / "test_batch",
        {
            "batch_label": "testing batch 1 of 1",
            "labels": [int(v) for v in y_test],
            "data": planar(x_test),
            "filenames": [f"test_{k}.png" for k in range(len(y_test))],
        },
    )
    names = ["airplane", "automobile", "bird", "cat", "deer"]
    names += ["dog", "frog", "horse", "ship", "truck"]
    dump(folder / "batches.meta", {"num_cases_per_batch": 10000, "label_names": names})
    return folder


def write_cifar100(root: Path, x_test: np.ndarray, y_test: np.ndarray) -> Path:
    """``root/cifar-100-python`` with ``test`` = the given images and ``train`` = the same."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    for name in ("train", "test"):
        dump(
            folder / name,
            {
                "filenames": [f"{name}_{k}.png" for k in range(len(y_test))],
                "fine_labels": [int(v) for v in y_test],
                "coarse_labels": [int(v) // 5 for v in y_test],
                "data": planar(x_test),
            },
        )
    dump(folder / "meta", {"fine_label_names": [str(i) for i in range(100)]})
    return folder


def unnormalise(batch: torch.Tensor, mean: tuple, std: tuple) -> np.ndarray:
    """Normalised float NCHW -> uint8 NHWC, inverting ``(x / 255 - mean) / std``."""
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    pixels = ((batch * s + m) * 255).round().clamp(0, 255).to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).numpy()
