"""PNASNet-5 (Liu, Zoph, Neumann, Shlens, Hua, Li, Fei-Fei, Yuille, Huang & Murphy,
"Progressive Neural Architecture Search", ECCV 2018; arXiv:1712.00559) as a timm model: the
published cell as PNASNet.pytorch encodes it, in the DARTS CIFAR-10 network. The progressive
search that found it is not reproduced (issue 28).
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

_PNAS_CELL = ops(
    [("sep_conv_5x5", 0), ("max_pool_3x3", 0), ("sep_conv_7x7", 1), ("max_pool_3x3", 1)]
    + [("sep_conv_5x5", 1), ("sep_conv_3x3", 1), ("sep_conv_3x3", 4), ("max_pool_3x3", 1)]
    + [("sep_conv_3x3", 0), ("skip_connect", 1)]
)

CELLS: dict[str, PublishedCell] = {
    "PNASNet": PublishedCell(
        Genotype(
            normal=_PNAS_CELL,
            normal_concat=(2, 3, 4, 5, 6),
            reduce=_PNAS_CELL,  # PNAS has one cell, used with stride 2 at the reductions
            reduce_concat=(2, 3, 4, 5, 6),
        ).validate(steps=None, ops=ALL_OPS),
        Provenance(
            paper=(
                "Liu, Zoph, Neumann, Shlens, Hua, Li, Fei-Fei, Yuille, Huang & Murphy."
                " Progressive Neural Architecture Search. ECCV 2018"
            ),
            paper_id="arXiv:1712.00559",
            origin="github.com/chenxi116/PNASNet.pytorch genotypes.py @ c3c830d (PNASNet)",
            origin_url="https://github.com/chenxi116/PNASNet.pytorch",
            table=(
                "DARTS Table 1 lists PNAS at 3.41 +- 0.09 %, 3.2M: PNAS's own network, not this"
                " re-encoding"
            ),
            notes=(
                "PNASNet-5 cell; equals TF-slim pnasnet.py (03cdc5f) with inputs 0/1 swapped, as"
                " the port's README states. 5 nodes; uses sep_conv_7x7."
            ),
        ),
    ),
}

MODELS: dict[str, PublishedModel] = {
    "pnasnet5_darts_space_cifar10": PublishedModel("PNASNet", "cifar", CIFAR_NETWORK),
}

# timm's register_model reads this module attribute to attach each model's pretrained cfg.
default_cfgs = register(CELLS, MODELS)
PROVENANCE: dict[str, dict[str, str]] = {name: provenance(name) for name in MODELS}


@register_model
def pnasnet5_darts_space_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """PNASNet-5 as PNASNet.pytorch encodes it, DARTS CIFAR-10 network."""
    return create("pnasnet5_darts_space_cifar10", pretrained, kwargs)
