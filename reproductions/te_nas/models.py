"""TE-NAS's released CIFAR-10 cell as a timm model (Chen, Gong & Wang, ICLR 2021, Table 2):
the cell of the evaluation code the TE-NAS README points to, in the DARTS CIFAR-10 network
(20 cells, 36 channels). ``timm.create_model("tenas_cifar10")`` after ``import reproductions``.
The cells our own searches found are in ``found/``.
"""

from __future__ import annotations

from typing import Any

from timm.models import register_model
from torch import nn

from common.spaces.darts.genotype import Genotype
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

CELLS: dict[str, PublishedCell] = {
    "TENAS_cifar10": PublishedCell(
        Genotype(
            normal=ops(
                [("dil_conv_3x3", 0), ("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 2)]
                + [("skip_connect", 0), ("dil_conv_5x5", 1), ("sep_conv_3x3", 1)]
                + [("sep_conv_5x5", 3)]
            ),
            normal_concat=(2, 3, 4, 5),
            reduce=ops(
                [("sep_conv_5x5", 0), ("sep_conv_5x5", 1), ("sep_conv_5x5", 1), ("sep_conv_5x5", 2)]
                + [("sep_conv_3x3", 1), ("sep_conv_3x3", 3), ("sep_conv_5x5", 2)]
                + [("sep_conv_3x3", 4)]
            ),
            reduce_concat=(2, 3, 4, 5),
        ).validate(),
        Provenance(
            paper=(
                "Chen, Gong & Wang. Neural Architecture Search on ImageNet in Four GPU Hours: A"
                " Theoretically Inspired Perspective. ICLR 2021"
            ),
            paper_id="arXiv:2102.11535",
            origin=(
                "github.com/chenwydj/DARTS_evaluation genotypes.py @ 4c317ce (TENAS_cifar10; the"
                " evaluation code the VITA-Group/TENAS README points to)"
            ),
            origin_url="https://github.com/chenwydj/DARTS_evaluation",
            table="TE-NAS Table 2 reports 2.63 +- 0.064 %, 3.8M for its four searches",
            notes=(
                "The repository does not say which search produced this cell or whether it is"
                " a Table 2 model; at 36 channels and 20 cells it has 4.14M parameters, not"
                " 3.8M. The same file's TEGNAS_ProbNAS genotype is identical to it."
            ),
        ),
    ),
}

MODELS: dict[str, PublishedModel] = {
    "tenas_cifar10": PublishedModel(
        "TENAS_cifar10",
        "cifar",
        CIFAR_NETWORK,
        published="none for this cell (Table 2: 3.8M, 4 cells)",
    ),
}

# timm's register_model reads this module attribute to attach each model's pretrained cfg.
default_cfgs = register(CELLS, MODELS)
GENOTYPES: dict[str, Genotype] = {name: c.genotype for name, c in CELLS.items()}
PROVENANCE: dict[str, dict[str, str]] = {name: provenance(name) for name in MODELS}


@register_model
def tenas_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """TE-NAS's released CIFAR-10 cell (DARTS_evaluation), DARTS CIFAR-10 network."""
    return create("tenas_cifar10", pretrained, kwargs)
