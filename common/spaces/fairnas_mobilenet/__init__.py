"""The FairNAS MobileNetV2 inverted-residual search space (Chu, Zhang & Xu, ICCV 2021):
architectures as data (``space``), the choice block and the network of one architecture
(``model``). FairNAS-A/B/C are registered in ``reproductions/fairnas/models.py``."""

from common.spaces.fairnas_mobilenet.model import FairNasNet, make_block
from common.spaces.fairnas_mobilenet.space import (
    CHOICES,
    LAYER_SPECS,
    NUM_ARCHS,
    NUM_LAYERS,
    FairNasArch,
)

__all__ = [
    "CHOICES",
    "LAYER_SPECS",
    "NUM_ARCHS",
    "NUM_LAYERS",
    "FairNasArch",
    "FairNasNet",
    "make_block",
]
