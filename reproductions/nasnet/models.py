"""NASNet-A (Zoph, Vasudevan, Shlens & Le, "Learning Transferable Architectures for Scalable
Image Recognition", CVPR 2018; arXiv:1707.07012) as timm models.

- ``nasnet_a_cifar10`` (6 @ 768, Table 1: 3.3M params) and ``nasnet_a_mobile`` (4 @ 1056,
  Table 3: 5.3M params, 564M mult-adds): NASNet's own networks, built by
  ``common.spaces.nasnet`` from TF-slim's cells and configs (``nasnet.py`` @ 03cdc5f
  ``cifar_config`` / ``mobile_imagenet_config``). Their sizes equal the published ones, and the
  builder gives timm's ``nasnetalarge`` (6 @ 4032) to the parameter (tests).
- ``nasnet_a_darts_space_cifar10``: the cell as the DARTS repository re-encodes it, in the
  DARTS CIFAR-10 network (DARTS Table 1, dagger row); kept because the leaderboard names it.

Parameter counts include the auxiliary head only where stated: the published counts are
without it (TF-slim builds the head only when training).
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
)
from common.spaces.nasnet.model import NetworkConfig
from common.spaces.nasnet.published import NASNET_A_NORMAL, NASNET_A_REDUCTION
from common.spaces.nasnet.registry import PublishedNetwork, published_cfgs
from common.spaces.nasnet.registry import create as create_nasnet

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

DARTS_SPACE_MODELS: dict[str, PublishedModel] = {
    "nasnet_a_darts_space_cifar10": PublishedModel(
        "NASNet",
        "cifar",
        CIFAR_NETWORK,
        published="3.1M params at an unstated width (DARTS Table 1)",
    ),
}

_PAPER = (
    "Zoph, Vasudevan, Shlens & Le. Learning Transferable Architectures for Scalable Image"
    " Recognition. CVPR 2018"
)
_TF = "github.com/tensorflow/models research/slim/nets/nasnet"
_CELL_ORIGIN = f"{_TF}/nasnet_utils.py @ 08eebbc (NasNetANormalCell, NasNetAReductionCell)"
_URL = "https://github.com/tensorflow/models"
_DEVIATIONS = (
    "Symmetric PyTorch padding instead of TF SAME (same sizes and parameters); drop-path at a"
    " constant rate (TF scales it by depth and step). Counts exclude the auxiliary head."
)

NETWORKS: dict[str, PublishedNetwork] = {
    "nasnet_a_cifar10": PublishedNetwork(
        NASNET_A_NORMAL,
        NASNET_A_REDUCTION,
        # nasnet.py @ 03cdc5f cifar_config: 18 cells (3 x N=6), 32 filters, stem x3, aux head,
        # drop-path keep 0.6, BN eps 1e-5 (nasnet_cifar_arg_scope)
        NetworkConfig(
            num_cells=18,
            num_conv_filters=32,
            stem="cifar",
            stem_multiplier=3.0,
            bn_eps=1e-5,
            image_size=32,
            num_classes=10,
        ),
        {
            "paper": _PAPER,
            "paper_id": "arXiv:1707.07012",
            "origin": f"{_CELL_ORIGIN}; {_TF}/nasnet.py @ 03cdc5f (cifar_config)",
            "origin_url": _URL,
            "table": "NASNet Table 1: NASNet-A (6 @ 768), 3.3M params, 3.41 % (2.65 % + cutout)",
            "notes": f"3,346,538 params without the auxiliary head (4,978,036 with). {_DEVIATIONS}",
            "network": "NASNetwork(18 cells, 32 filters, CIFAR stem x3): 6 @ 768",
            "published_size": "3.3M params (NASNet Table 1)",
        },
    ),
    "nasnet_a_mobile": PublishedNetwork(
        NASNET_A_NORMAL,
        NASNET_A_REDUCTION,
        # nasnet.py @ 03cdc5f mobile_imagenet_config: 12 cells (3 x N=4), 44 filters, stem x1,
        # dense dropout keep 0.5, no drop-path, aux head; BN eps 1e-3 (mobile arg scope); 224 px
        NetworkConfig(
            num_cells=12,
            num_conv_filters=44,
            stem="imagenet",
            stem_multiplier=1.0,
            dense_dropout=0.5,
            bn_eps=1e-3,
            image_size=224,
            num_classes=1000,
        ),
        {
            "paper": _PAPER,
            "paper_id": "arXiv:1707.07012",
            "origin": f"{_CELL_ORIGIN}; {_TF}/nasnet.py @ 03cdc5f (mobile_imagenet_config)",
            "origin_url": _URL,
            "table": (
                "NASNet Table 3: NASNet-A (4 @ 1056), 5.3M params, 564M mult-adds, 74.0 / 91.6 %"
                " top-1 / top-5 on ImageNet at 224 x 224"
            ),
            "notes": (
                "5,289,978 params without the auxiliary head (7,701,218 with); 563.6M"
                f" multiply-adds (torch FlopCounterMode / 2). {_DEVIATIONS}"
            ),
            "network": "NASNetwork(12 cells, 44 filters, ImageNet stem x1): 4 @ 1056",
            "published_size": "5.3M params, 564M mult-adds (NASNet Table 3)",
        },
    ),
}

# The module's published models, whatever their space (tests read MODELS).
MODELS: dict[str, PublishedModel | PublishedNetwork] = {**DARTS_SPACE_MODELS, **NETWORKS}

# timm's register_model reads default_cfgs, so it is set before the entry points.
default_cfgs, PROVENANCE = published_cfgs("NASNet-A", NETWORKS, CELLS, DARTS_SPACE_MODELS)


@register_model
def nasnet_a_darts_space_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """NASNet-A as the DARTS repository encodes it, in the DARTS CIFAR-10 network."""
    return create("nasnet_a_darts_space_cifar10", pretrained, kwargs)


@register_model
def nasnet_a_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """NASNet-A (6 @ 768) for CIFAR-10, NASNet Table 1."""
    return create_nasnet(NETWORKS["nasnet_a_cifar10"], "nasnet_a_cifar10", pretrained, kwargs)


@register_model
def nasnet_a_mobile(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """NASNet-A Mobile (4 @ 1056) for ImageNet at 224 x 224, NASNet Table 3."""
    return create_nasnet(NETWORKS["nasnet_a_mobile"], "nasnet_a_mobile", pretrained, kwargs)
