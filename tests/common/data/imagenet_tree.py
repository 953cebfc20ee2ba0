"""A tiny synthetic ImageNet in the standard ImageFolder layout, written with PIL."""

from pathlib import Path

import numpy as np
from PIL import Image

WNIDS = ("n01440764", "n01443537", "n01484850")


def write_tree(root: Path, train_per_class: int = 6, val_per_class: int = 2) -> Path:
    """``root/train/<wnid>/`` and ``root/val/<wnid>/`` for the three ``WNIDS``, with small random
    images of varied sizes (one PNG a class, the rest JPEG), seed 0; returns ``root``."""
    rng = np.random.default_rng(0)
    for part, n in (("train", train_per_class), ("val", val_per_class)):
        for wnid in WNIDS:
            folder = root / part / wnid
            folder.mkdir(parents=True)
            for k in range(n):
                h, w = int(rng.integers(20, 40)), int(rng.integers(20, 40))
                image = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
                suffix = "PNG" if k == 0 else "JPEG"
                image.save(folder / f"{wnid}_{k}.{suffix}")
    return root
