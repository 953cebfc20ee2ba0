"""AmoebaNet-A (Real, Aggarwal, Huang & Le, "Regularized Evolution for Image Classifier
Architecture Search", AAAI 2019; arXiv:1802.01548) as a timm model: the published cell as
the DARTS repository encodes it, in the DARTS CIFAR-10 network, where DARTS Table 1 (dagger
row) trains it. The evolution that found the cell, in the NASNet space, is not reproduced;
the same algorithm runs on NAS-Bench-201 in ``search.py`` beside this file.
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
    "AmoebaNet": PublishedCell(
        Genotype(
            normal=ops(
                [("avg_pool_3x3", 0), ("max_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2)]
                + [("sep_conv_3x3", 0), ("avg_pool_3x3", 3), ("sep_conv_3x3", 1)]
                + [("skip_connect", 1), ("skip_connect", 0), ("avg_pool_3x3", 1)]
            ),
            normal_concat=(4, 5, 6),
            reduce=ops(
                [("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("max_pool_3x3", 0), ("sep_conv_7x7", 2)]
                + [("sep_conv_7x7", 0), ("avg_pool_3x3", 1), ("max_pool_3x3", 0)]
                + [("max_pool_3x3", 1), ("conv_7x1_1x7", 0), ("sep_conv_3x3", 5)]
            ),
            reduce_concat=(3, 4, 6),
        ).validate(steps=None, ops=ALL_OPS),
        Provenance(
            paper=(
                "Real, Aggarwal, Huang & Le. Regularized Evolution for Image Classifier"
                " Architecture Search. AAAI 2019"
            ),
            paper_id="arXiv:1802.01548",
            origin=f"{DARTS_GENOTYPES_FILE} (AmoebaNet)",
            origin_url=DARTS_URL,
            table=(
                "DARTS Table 1, dagger row (trained in the DARTS setup): AmoebaNet-A + cutout,"
                " 3.12 % test error, 3.1M params"
            ),
            notes=(
                "5 nodes; uses sep_conv_7x7 and conv_7x1_1x7. This encoding was not checked"
                " against the original TF AmoebaNet-A spec."
            ),
        ),
    ),
}

MODELS: dict[str, PublishedModel] = {
    "amoebanet_a_darts_space_cifar10": PublishedModel(
        "AmoebaNet", "cifar", CIFAR_NETWORK, published="3.1M params (DARTS Table 1)"
    ),
}

# timm's register_model reads this module attribute to attach each model's pretrained cfg.
default_cfgs = register(CELLS, MODELS)
PROVENANCE: dict[str, dict[str, str]] = {name: provenance(name) for name in MODELS}


@register_model
def amoebanet_a_darts_space_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """AmoebaNet-A as the DARTS repository encodes it, in the DARTS CIFAR-10 network."""
    return create("amoebanet_a_darts_space_cifar10", pretrained, kwargs)
