"""The published cells of the NASNet space, transcribed from TF-slim (operations and
``hiddenstate_indices`` in block order, ``used_hiddenstates`` complemented into the output
list), and the networks of the published models.

- NASNet-A: ``nasnet_utils.py`` @ 08eebbc ``NasNetANormalCell`` / ``NasNetAReductionCell``.
- PNASNet-5: ``pnasnet.py`` @ 03cdc5f ``PNasNetNormalCell`` (one cell, stride 2 at reductions).

TF names map to ours: ``separable_kxk_2`` -> ``sep_conv_kxk``, ``none`` -> ``identity``.
"""

from __future__ import annotations

from common.spaces.nasnet.cell import Block, Cell

_TF_OPS = {
    "separable_3x3_2": "sep_conv_3x3",
    "separable_5x5_2": "sep_conv_5x5",
    "separable_7x7_2": "sep_conv_7x7",
    "none": "identity",
    "avg_pool_3x3": "avg_pool_3x3",
    "max_pool_3x3": "max_pool_3x3",
}


def from_tf(
    operations: list[str], hiddenstate_indices: list[int], used_hiddenstates: list[int], space: str
) -> Cell:
    """A cell from TF-slim's three lists (``NasNetABaseCell.__init__`` arguments)."""
    ops = [_TF_OPS[o] for o in operations]
    idx = hiddenstate_indices
    blocks = tuple(
        Block(idx[2 * b], ops[2 * b], idx[2 * b + 1], ops[2 * b + 1]) for b in range(len(ops) // 2)
    )
    concat = tuple(s for s, used in enumerate(used_hiddenstates) if not used)
    return Cell(blocks, concat, space=space)


NASNET_A_NORMAL = from_tf(
    ["separable_5x5_2", "separable_3x3_2", "separable_5x5_2", "separable_3x3_2", "avg_pool_3x3"]
    + ["none", "avg_pool_3x3", "avg_pool_3x3", "separable_3x3_2", "none"],
    [0, 1, 1, 1, 0, 1, 1, 1, 0, 0],
    [1, 0, 0, 0, 0, 0, 0],
    "nasnet",
)
NASNET_A_REDUCTION = from_tf(
    ["separable_5x5_2", "separable_7x7_2", "max_pool_3x3", "separable_7x7_2", "avg_pool_3x3"]
    + ["separable_5x5_2", "none", "avg_pool_3x3", "separable_3x3_2", "max_pool_3x3"],
    [0, 1, 0, 1, 0, 1, 3, 2, 2, 0],
    [1, 1, 1, 0, 0, 0, 0],
    "nasnet",
)
PNASNET_5 = from_tf(
    ["separable_5x5_2", "max_pool_3x3", "separable_7x7_2", "max_pool_3x3", "separable_5x5_2"]
    + ["separable_3x3_2", "separable_3x3_2", "max_pool_3x3", "separable_3x3_2", "none"],
    [1, 1, 0, 0, 0, 0, 4, 0, 1, 0],
    [1, 1, 0, 0, 0, 0, 0],
    "pnas",
)
