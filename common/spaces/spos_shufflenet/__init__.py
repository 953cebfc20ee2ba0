"""The SPOS ShuffleNetV2 block search space (Guo et al., ECCV 2020): architectures as data
(``space``), the four choice blocks (``blocks``) and the network of one architecture
(``model``). The published architecture is registered in ``reproductions/spos/models.py``."""

from common.spaces.spos_shufflenet.blocks import make_block
from common.spaces.spos_shufflenet.model import ShuffleNetOneShot
from common.spaces.spos_shufflenet.space import BLOCKS, CHOICES, NUM_ARCHS, NUM_BLOCKS, SposArch

__all__ = [
    "BLOCKS",
    "CHOICES",
    "NUM_ARCHS",
    "NUM_BLOCKS",
    "ShuffleNetOneShot",
    "SposArch",
    "make_block",
]
