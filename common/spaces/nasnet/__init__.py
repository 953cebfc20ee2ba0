"""The NASNet cell search space (``cell``), its operations (``ops``), NASNet's network builder
that PNAS shares (``model``) and the published cells in it (``published``)."""

from common.spaces.nasnet.cell import (
    NASNET_OPS,
    NASNET_SPACE,
    PNAS_OPS,
    PNAS_SPACE,
    SPACES,
    Block,
    Cell,
    Space,
    blocks_at,
)
from common.spaces.nasnet.model import (
    NASNetwork,
    NetworkConfig,
    calc_reduction_layers,
    count_mult_adds,
    count_params,
    notation,
)

__all__ = [
    "NASNET_OPS",
    "NASNET_SPACE",
    "PNAS_OPS",
    "PNAS_SPACE",
    "SPACES",
    "Block",
    "Cell",
    "NASNetwork",
    "NetworkConfig",
    "Space",
    "blocks_at",
    "calc_reduction_layers",
    "count_mult_adds",
    "count_params",
    "notation",
]
