"""The published DARTS cells as timm models (DARTS, ICLR 2019, Tables 1 and 3).

``timm.create_model("darts_v2_cifar10")`` builds the DARTS_V2 cell in the CIFAR-10 evaluation
network (20 cells, 36 channels, auxiliary head); overrides go by keyword
(``drop_path_prob=0.2``, ``auxiliary=False``, ``num_classes=100``). There are no released
weights here: ``pretrained=True`` is an error. Each model's provenance (paper, table, origin
file and commit, notes) is in ``PROVENANCE``, in ``model.provenance`` and, in timm's fields,
in ``model.pretrained_cfg`` / ``timm.models.get_pretrained_cfg(name)``.

Genotype data come from the project notes (shared/research/architectures.md), which record
the source file and commit of each; the provenance below repeats them. The machinery
(``register``, ``create``, the networks) is ``common.spaces.darts.registry``.
"""

from __future__ import annotations

from typing import Any

from timm.models import register_model
from torch import nn

from common.spaces.darts.genotype import Genotype
from common.spaces.darts.registry import (
    CIFAR_NETWORK,
    DARTS_GENOTYPES_FILE,
    DARTS_URL,
    IMAGENET_NETWORK,
    Provenance,
    PublishedCell,
    PublishedModel,
    create,
    ops,
    provenance,
    register,
)

_PAPER = "Liu, Simonyan & Yang. DARTS: Differentiable Architecture Search. ICLR 2019"
_V1_V2_NOTE = (
    "V1/V2 are code-release versions, not first/second-order DARTS: DARTS_V1 is the cell of the"
    " June 2018 code release (8876e79), DARTS_V2 was added with rerun experiments in a00cad0"
    " (2018-08-03) and is the default DARTS of cnn/train.py."
)

CELLS: dict[str, PublishedCell] = {
    "DARTS_V2": PublishedCell(
        Genotype(
            normal=ops(
                [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1)]
                + [("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0)]
                + [("dil_conv_3x3", 2)]
            ),
            normal_concat=(2, 3, 4, 5),
            reduce=ops(
                [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1)]
                + [("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2)]
                + [("max_pool_3x3", 1)]
            ),
            reduce_concat=(2, 3, 4, 5),
        ).validate(),
        Provenance(
            paper=_PAPER,
            paper_id="arXiv:1806.09055",
            origin=f"{DARTS_GENOTYPES_FILE} (DARTS_V2)",
            origin_url=DARTS_URL,
            table=(
                "Table 1: DARTS (second order) + cutout, 2.76 +- 0.09 % test error, 3.3M params;"
                " Table 3 (ImageNet mobile): 26.7 / 8.7 % top-1/top-5 error, 4.7M, 574M mult-adds"
            ),
            notes=_V1_V2_NOTE,
        ),
    ),
    "DARTS_V1": PublishedCell(
        Genotype(
            normal=ops(
                [("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1)]
                + [("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0)]
                + [("skip_connect", 2)]
            ),
            normal_concat=(2, 3, 4, 5),
            reduce=ops(
                [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0)]
                + [("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2)]
                + [("avg_pool_3x3", 0)]
            ),
            reduce_concat=(2, 3, 4, 5),
        ).validate(),
        Provenance(
            paper=_PAPER,
            paper_id="arXiv:1806.09055",
            origin=f"{DARTS_GENOTYPES_FILE} (DARTS_V1)",
            origin_url=DARTS_URL,
            table="none: no table of the ICLR paper is tied to this cell",
            notes=_V1_V2_NOTE,
        ),
    ),
}

MODELS: dict[str, PublishedModel] = {
    "darts_v1_cifar10": PublishedModel("DARTS_V1", "cifar", CIFAR_NETWORK),
    "darts_v2_cifar10": PublishedModel(
        "DARTS_V2", "cifar", CIFAR_NETWORK, published="3.3M params (DARTS Table 1)"
    ),
    "darts_v2_imagenet": PublishedModel(
        "DARTS_V2", "imagenet", IMAGENET_NETWORK, published="4.7M params, 574M mult-adds (Table 3)"
    ),
}

# timm's register_model reads this module attribute to attach each model's pretrained cfg.
default_cfgs = register(CELLS, MODELS)
GENOTYPES: dict[str, Genotype] = {name: cell.genotype for name, cell in CELLS.items()}
PROVENANCE: dict[str, dict[str, str]] = {name: provenance(name) for name in MODELS}


@register_model
def darts_v1_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """DARTS_V1 cell (June 2018 code release), CIFAR-10 network."""
    return create("darts_v1_cifar10", pretrained, kwargs)


@register_model
def darts_v2_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """DARTS_V2 cell (the repository's default DARTS), CIFAR-10 network (Table 1)."""
    return create("darts_v2_cifar10", pretrained, kwargs)


@register_model
def darts_v2_imagenet(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """DARTS_V2 cell, ImageNet mobile-setting network (Table 3)."""
    return create("darts_v2_imagenet", pretrained, kwargs)
