"""Image transforms as config: DARTS-style augmentation, per-dataset normalisation, Cutout.

All transforms act on float CHW tensors in [0, 1] (``ArrayDataset`` converts the stored uint8
arrays), which is what ``ToTensor`` produces in the DARTS and NB-201 pipelines; zero padding
of the random crop is therefore the same black border as PIL's.
"""

from collections.abc import Sequence

import torch
from torchvision.transforms import v2


class Cutout(torch.nn.Module):
    """DARTS ``utils.Cutout``: zero one square hole, applied after normalisation.

    The centre is uniform over all pixels and the hole is clipped at the border, exactly as in
    DARTS (``y1 = clip(y - L // 2)``, ``y2 = clip(y + L // 2)``), so an odd ``length`` gives a
    hole of ``length - 1`` and a hole near the edge is smaller. Randomness comes from torch so
    that DataLoader workers draw different holes; ``generator`` makes a single draw testable.
    """

    def __init__(self, length: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.length = length
        self.generator = generator

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        h, w = img.shape[-2:]
        cy = int(torch.randint(h, (1,), generator=self.generator))
        cx = int(torch.randint(w, (1,), generator=self.generator))
        half = self.length // 2
        y1, y2 = max(cy - half, 0), min(cy + half, h)
        x1, x2 = max(cx - half, 0), min(cx + half, w)
        out = img.clone()
        out[..., y1:y2, x1:x2] = 0.0
        return out

    def extra_repr(self) -> str:
        return f"length={self.length}"


def train_transform(
    image_size: int,
    augment: bool,
    crop_padding: int,
    mean: Sequence[float],
    std: Sequence[float],
    cutout: int,
) -> v2.Compose:
    """Random crop with zero padding and horizontal flip (if ``augment``), normalise, Cutout."""
    ops: list[torch.nn.Module] = []
    if augment:
        if crop_padding > 0:
            ops.append(v2.RandomCrop(image_size, padding=crop_padding))
        ops.append(v2.RandomHorizontalFlip())
    ops.append(v2.Normalize(list(mean), list(std)))
    if cutout > 0:
        ops.append(Cutout(cutout))
    return v2.Compose(ops)


def eval_transform(mean: Sequence[float], std: Sequence[float]) -> v2.Compose:
    """Normalisation only: evaluation never augments."""
    return v2.Compose([v2.Normalize(list(mean), list(std))])
