"""ENAS (Pham, Guan, Zoph, Le & Dean, "Efficient Neural Architecture Search via Parameter
Sharing", ICML 2018; arXiv:1802.03268) as timm models: the released final micro cell,
decoded into a DARTS-space genotype, and NSGA-Net's re-encoding of it, each in the DARTS
CIFAR-10 network. The ENAS search itself is not reproduced (issue 26).
"""

from __future__ import annotations

from typing import Any

from timm.models import register_model
from torch import nn

from common.spaces.darts.genotype import ALL_OPS, Genotype
from common.spaces.darts.registry import (
    CIFAR_NETWORK,
    Provenance,
    PublishedCell,
    PublishedModel,
    create,
    ops,
    provenance,
    register,
)

_PAPER = (
    "Pham, Guan, Zoph, Le & Dean. Efficient Neural Architecture Search via Parameter Sharing."
    " ICML 2018"
)

CELLS: dict[str, PublishedCell] = {
    "ENAS": PublishedCell(
        Genotype(
            # fixed_arc normal "0 2 0 0 | 0 4 0 1 | 0 4 1 1 | 1 0 0 1 | 0 2 1 1"
            normal=ops(
                [("avg_pool_3x3", 0), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_5x5", 0)]
                + [("skip_connect", 0), ("sep_conv_5x5", 1), ("sep_conv_3x3", 1)]
                + [("sep_conv_5x5", 0), ("avg_pool_3x3", 0), ("sep_conv_5x5", 1)]
            ),
            normal_concat=(2, 3, 4, 5, 6),  # no block feeds another: all 5 are concatenated
            # fixed_arc reduce "1 0 1 0 | 0 3 0 2 | 1 1 3 1 | 1 0 0 4 | 0 3 1 1"
            reduce=ops(
                [("sep_conv_3x3", 1), ("sep_conv_3x3", 1), ("max_pool_3x3", 0), ("avg_pool_3x3", 0)]
                + [("sep_conv_5x5", 1), ("sep_conv_5x5", 3), ("sep_conv_3x3", 1)]
                + [("skip_connect", 0), ("max_pool_3x3", 0), ("sep_conv_5x5", 1)]
            ),
            reduce_concat=(2, 4, 5, 6),  # block 3 feeds block 4, so it is not concatenated
        ).validate(steps=None, ops=ALL_OPS),
        Provenance(
            paper=_PAPER,
            paper_id="arXiv:1802.03268",
            origin=(
                "github.com/melodyguan/enas scripts/cifar10_micro_final.sh @ 4bcfd73 (fixed_arc),"
                " decoded here: blocks (index_1, op_1, index_2, op_2), index 0 = cell k-2,"
                " 1 = cell k-1; ops 0 sep_conv_3x3, 1 sep_conv_5x5, 2 avg_pool_3x3,"
                " 3 max_pool_3x3, 4 identity = skip_connect; unused blocks concatenated"
            ),
            origin_url="https://github.com/melodyguan/enas",
            table=(
                "DARTS Table 1 lists ENAS + cutout at 2.89 %, 4.6M: ENAS's own network, not this"
                " re-encoding"
            ),
            notes=(
                "ENAS's network differs from the DARTS one around the cell (input calibration"
                " convs, a 1x1 conv after the concat, factorized reduction before reduction"
                " cells, 15 layers); only the cell is carried over. The re-encoding in"
                " ianwhale/nsga-net (registered as ENAS_NSGANet) differs from this decoding."
            ),
        ),
    ),
    "ENAS_NSGANet": PublishedCell(
        Genotype(
            normal=ops(
                [("sep_conv_3x3", 1), ("skip_connect", 1), ("sep_conv_5x5", 1), ("skip_connect", 0)]
                + [("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0)]
                + [("avg_pool_3x3", 0), ("sep_conv_5x5", 1), ("avg_pool_3x3", 0)]
            ),
            normal_concat=(2, 3, 4, 5, 6),
            reduce=ops(
                [("sep_conv_5x5", 0), ("avg_pool_3x3", 1), ("sep_conv_3x3", 1), ("avg_pool_3x3", 1)]
                + [("avg_pool_3x3", 1), ("sep_conv_3x3", 1), ("sep_conv_5x5", 4)]
                + [("avg_pool_3x3", 1), ("sep_conv_3x3", 5), ("sep_conv_5x5", 0)]
            ),
            reduce_concat=(2, 3, 6),
        ).validate(steps=None, ops=ALL_OPS),
        Provenance(
            paper=_PAPER,
            paper_id="arXiv:1802.03268",
            origin="github.com/ianwhale/nsga-net models/micro_genotypes.py @ e939cde (ENAS)",
            origin_url="https://github.com/ianwhale/nsga-net",
            table="none for this encoding (NSGA-Net's baseline genotype)",
            notes=(
                "The NSGA-Net authors' re-encoding; it does not match the decoding of the"
                " fixed_arc released with ENAS (see ENAS) and does not state its source. Other"
                " repositories copy it with small changes."
            ),
        ),
    ),
}

MODELS: dict[str, PublishedModel] = {
    "enas_darts_space_cifar10": PublishedModel("ENAS", "cifar", CIFAR_NETWORK),
    "enas_nsganet_darts_space_cifar10": PublishedModel("ENAS_NSGANet", "cifar", CIFAR_NETWORK),
}

# timm's register_model reads this module attribute to attach each model's pretrained cfg.
default_cfgs = register(CELLS, MODELS)
PROVENANCE: dict[str, dict[str, str]] = {name: provenance(name) for name in MODELS}


@register_model
def enas_darts_space_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """ENAS's released final micro cell (fixed_arc) as a genotype, DARTS CIFAR-10 network."""
    return create("enas_darts_space_cifar10", pretrained, kwargs)


@register_model
def enas_nsganet_darts_space_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """ENAS as NSGA-Net's repository encodes it, DARTS CIFAR-10 network."""
    return create("enas_nsganet_darts_space_cifar10", pretrained, kwargs)
