"""NASNet-A (Zoph, Vasudevan, Shlens & Le, "Learning Transferable Architectures for Scalable
Image Recognition", CVPR 2018; arXiv:1707.07012) as a timm model: the published cell as the
DARTS repository encodes it, in the DARTS CIFAR-10 network, where DARTS Table 1 (dagger row)
trains it. The search that found the cell is not reproduced (issue 28).
"""

from __future__ import annotations

from typing import Any

from timm.models import register_model
from torch import nn

from common.spaces.darts.genotype import ALL_OPS, Genotype
from common.spaces.darts.registry import (
    CIFAR_NETWORK,
    DARTS_GENOTYPES_FILE,
    DARTS_URL,
    Provenance,
    PublishedCell,
    PublishedModel,
    create,
    ops,
    provenance,
    register,
)

CELLS: dict[str, PublishedCell] = {
    "NASNet": PublishedCell(
        Genotype(
            normal=ops(
                [("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 0), ("sep_conv_3x3", 0)]
                + [("avg_pool_3x3", 1), ("skip_connect", 0), ("avg_pool_3x3", 0)]
                + [("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 1)]
            ),
            normal_concat=(2, 3, 4, 5, 6),
            reduce=ops(
                [("sep_conv_5x5", 1), ("sep_conv_7x7", 0), ("max_pool_3x3", 1), ("sep_conv_7x7", 0)]
                + [("avg_pool_3x3", 1), ("sep_conv_5x5", 0), ("skip_connect", 3)]
                + [("avg_pool_3x3", 2), ("sep_conv_3x3", 2), ("max_pool_3x3", 1)]
            ),
            reduce_concat=(4, 5, 6),
        ).validate(steps=None, ops=ALL_OPS),
        Provenance(
            paper=(
                "Zoph, Vasudevan, Shlens & Le. Learning Transferable Architectures for Scalable"
                " Image Recognition. CVPR 2018"
            ),
            paper_id="arXiv:1707.07012",
            origin=f"{DARTS_GENOTYPES_FILE} (NASNet)",
            origin_url=DARTS_URL,
            table=(
                "DARTS Table 1, dagger row (trained in the DARTS setup): NASNet-A + cutout,"
                " 2.83 % test error, 3.1M params"
            ),
            notes=(
                "5 nodes; uses sep_conv_7x7. Ops and inputs equal TF-slim nasnet_utils.py"
                " (08eebbc) with inputs 0/1 swapped, but the concat differs: TF's normal cell"
                " also outputs h_{i-2}, its reduction cell outputs states 3..6. At the DARTS"
                " CIFAR setting (36 channels, 20 cells) this network has 3.83M params, not the"
                " 3.1M of DARTS Table 1; the paper does not give the width it used (32 channels"
                " give 3.06M)."
            ),
        ),
    ),
}

MODELS: dict[str, PublishedModel] = {
    "nasnet_a_darts_space_cifar10": PublishedModel(
        "NASNet",
        "cifar",
        CIFAR_NETWORK,
        published="3.1M params at an unstated width (DARTS Table 1)",
    ),
}

# timm's register_model reads this module attribute to attach each model's pretrained cfg.
default_cfgs = register(CELLS, MODELS)
PROVENANCE: dict[str, dict[str, str]] = {name: provenance(name) for name in MODELS}


@register_model
def nasnet_a_darts_space_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """NASNet-A as the DARTS repository encodes it, in the DARTS CIFAR-10 network."""
    return create("nasnet_a_darts_space_cifar10", pretrained, kwargs)
