"""PNASNet-5 (Liu, Zoph, Neumann, Shlens, Hua, Li, Fei-Fei, Yuille, Huang & Murphy,
"Progressive Neural Architecture Search", ECCV 2018; arXiv:1712.00559) as timm models.

- ``pnasnet5_cifar10`` (3.2M params) and ``pnasnet5_mobile`` (5.1M params, 588M mult-adds):
  PNAS's own networks, built by ``common.spaces.nasnet`` (NASNet's builder in PNAS's layout,
  one cell strided at the reductions) from TF-slim ``pnasnet.py`` @ 03cdc5f. The mobile one is
  ``mobile_imagenet_config`` as released. No official CIFAR config exists; 9 cells (the
  mobile layout, "N = 3") of 48 filters give 3.19M, the published 3.2M (secondary: PNAS
  Table 1 is restated as N = 3, F = 48; the PNAS paper itself was not read).
- ``pnasnet5_darts_space_cifar10``: the cell as PNASNet.pytorch encodes it, in the DARTS
  CIFAR-10 network; kept because the leaderboard names it.

The builder gives timm's ``pnasnet5large`` to the parameter (tests). Counts exclude the
auxiliary head (TF-slim builds it only when training).
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
)
from common.spaces.nasnet.model import NetworkConfig
from common.spaces.nasnet.published import PNASNET_5
from common.spaces.nasnet.registry import PublishedNetwork, published_cfgs
from common.spaces.nasnet.registry import create as create_pnasnet

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

DARTS_SPACE_MODELS: dict[str, PublishedModel] = {
    "pnasnet5_darts_space_cifar10": PublishedModel("PNASNet", "cifar", CIFAR_NETWORK),
}

_PAPER = (
    "Liu, Zoph, Neumann, Shlens, Hua, Li, Fei-Fei, Yuille, Huang & Murphy. Progressive Neural"
    " Architecture Search. ECCV 2018"
)
_ORIGIN = (
    "github.com/tensorflow/models research/slim/nets/nasnet/pnasnet.py @ 03cdc5f (PNasNetNormalCell"
)
_DEVIATIONS = (
    "Symmetric PyTorch padding instead of TF SAME (same sizes and parameters); drop-path at a"
    " constant rate. Counts exclude the auxiliary head."
)

NETWORKS: dict[str, PublishedNetwork] = {
    "pnasnet5_cifar10": PublishedNetwork(
        PNASNET_5,
        None,
        # 9 cells / 48 filters: the only layout near the published 3.2M (see the docstring);
        # stem x3 and BN eps 1e-5 as NASNet's cifar_config (unverified for PNAS)
        NetworkConfig(
            num_cells=9,
            num_conv_filters=48,
            stem="cifar",
            stem_multiplier=3.0,
            layout="pnas",
            skip_reduction_layer_input=True,
            bn_eps=1e-5,
            image_size=32,
            num_classes=10,
        ),
        {
            "paper": _PAPER,
            "paper_id": "arXiv:1712.00559",
            "origin": f"{_ORIGIN}; no official CIFAR config: 9 cells, 48 filters)",
            "origin_url": "https://github.com/tensorflow/models",
            "table": (
                "PNAS Table 1 as restated by DARTS Table 1: PNASNet-5, 3.2M params,"
                " 3.41 +- 0.09 % (unverified: the PNAS paper was not read)"
            ),
            "notes": f"3,189,082 params without the auxiliary head. {_DEVIATIONS}",
            "network": "NASNetwork(PNAS layout, 9 cells, 48 filters, CIFAR stem x3): 3 @ 960",
            "published_size": "3.2M params (restated by DARTS Table 1)",
        },
    ),
    "pnasnet5_mobile": PublishedNetwork(
        PNASNET_5,
        None,
        # pnasnet.py @ 03cdc5f mobile_imagenet_config: 9 cells, 54 filters, stem x1,
        # skip_reduction_layer_input 1, dense dropout keep 0.5, aux head; BN eps 1e-3
        NetworkConfig(
            num_cells=9,
            num_conv_filters=54,
            stem="imagenet",
            stem_multiplier=1.0,
            layout="pnas",
            skip_reduction_layer_input=True,
            dense_dropout=0.5,
            bn_eps=1e-3,
            image_size=224,
            num_classes=1000,
        ),
        {
            "paper": _PAPER,
            "paper_id": "arXiv:1712.00559",
            "origin": f"{_ORIGIN}, mobile_imagenet_config)",
            "origin_url": "https://github.com/tensorflow/models",
            "table": (
                "PNAS Table 3 as restated by DARTS Table 3: PNASNet-5 mobile, 5.1M params,"
                " 588M mult-adds, 25.8 / 8.1 % top-1 / top-5 error; TF-slim README:"
                " PNASNet-5_Mobile_224 74.2 / 91.9 %"
            ),
            "notes": (
                "5,064,487 params without the auxiliary head; 587.3M multiply-adds (torch"
                " FlopCounterMode / 2; 588M published). The 27-filter stem cell needs the odd"
                f" factorized reduction of the later nasnet_utils.py. {_DEVIATIONS}"
            ),
            "network": "NASNetwork(PNAS layout, 9 cells, 54 filters, ImageNet stem x1)",
            "published_size": "5.1M params, 588M mult-adds (restated by DARTS Table 3)",
        },
    ),
}

MODELS: dict[str, PublishedModel | PublishedNetwork] = {**DARTS_SPACE_MODELS, **NETWORKS}

# timm's register_model reads default_cfgs, so it is set before the entry points.
default_cfgs, PROVENANCE = published_cfgs("PNASNet-5", NETWORKS, CELLS, DARTS_SPACE_MODELS)


@register_model
def pnasnet5_darts_space_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """PNASNet-5 as PNASNet.pytorch encodes it, DARTS CIFAR-10 network."""
    return create("pnasnet5_darts_space_cifar10", pretrained, kwargs)


@register_model
def pnasnet5_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """PNASNet-5 for CIFAR-10 (3.2M params)."""
    return create_pnasnet(NETWORKS["pnasnet5_cifar10"], "pnasnet5_cifar10", pretrained, kwargs)


@register_model
def pnasnet5_mobile(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """PNASNet-5 Mobile for ImageNet at 224 x 224 (TF-slim mobile_imagenet_config)."""
    return create_pnasnet(NETWORKS["pnasnet5_mobile"], "pnasnet5_mobile", pretrained, kwargs)
