"""FairNAS-A, -B and -C as timm models (Chu, Zhang & Xu, FairNAS: Rethinking Evaluation Fairness
of Weight Sharing Neural Architecture Search, ICCV 2021, Table 2; official models
github.com/xiaomi-automl/FairNAS @ fa0d393, ``models/FairNAS_{A,B,C}.py``).

``timm.create_model("fairnas_a")`` (``_b``, ``_c``) after ``import reproductions`` builds the
network of the official module, from its ``mb_config`` rows copied below
(``common.spaces.fairnas_mobilenet``). Overrides go by keyword (``num_classes=10``,
``drop_rate=0.0``). No weights are loaded: ``pretrained=True`` is an error (the repository's
``pretrained/FairNas{A,B,C}.pth.tar`` map onto these networks parameter by parameter, in
order). The SE variants of ``models/timm_models.py`` are not registered.

How the counts compare: Table 2 gives multiply-adds ("x+"), which match the conv and linear
multiply-adds of the official modules at 224x224 with the classifier included (388.1 / 345.3
/ 321.0M; 386.8 / 344.0 / 319.7M without it). Its parameters (4.6 / 4.5 / 4.4M) match the
count without BN affine parameters (4.609 / 4.466 / 4.359M); with them A has 4.651M (4.7M).
"""

from __future__ import annotations

from typing import Any

from timm.models import generate_default_cfgs, register_model
from torch import nn

from common.spaces.fairnas_mobilenet import FairNasArch, FairNasNet
from common.spaces.published import Provenance, create_with_cfg, imagenet_cfg

_PAPER = (
    "Chu, Zhang & Xu. FairNAS: Rethinking Evaluation Fairness of Weight Sharing Neural"
    " Architecture Search. ICCV 2021"
)
_FAIRNAS_URL = "https://github.com/xiaomi-automl/FairNAS"
_ORIGIN = "github.com/xiaomi-automl/FairNAS models/FairNAS_{}.py @ fa0d393 (mb_config)"

# mb_config rows [expansion, out_channels, kernel, stride] of the 19 inverted-residual layers,
# copied from xiaomi-automl/FairNAS @ fa0d393 models/FairNAS_A.py, FairNAS_B.py, FairNAS_C.py.
MB_CONFIGS: dict[str, list[list[int]]] = {
    "A": [
        [3, 32, 7, 2], [3, 32, 3, 1], [3, 40, 7, 2], [6, 40, 3, 1], [6, 40, 7, 1],
        [3, 40, 3, 1], [3, 80, 3, 2], [6, 80, 7, 1], [6, 80, 7, 1], [3, 80, 5, 1],
        [6, 96, 3, 1], [3, 96, 5, 1], [3, 96, 5, 1], [6, 96, 3, 1], [6, 192, 3, 2],
        [6, 192, 7, 1], [6, 192, 3, 1], [6, 192, 7, 1], [6, 320, 5, 1],
    ],
    "B": [
        [3, 32, 5, 2], [3, 32, 3, 1], [3, 40, 5, 2], [3, 40, 3, 1], [6, 40, 3, 1],
        [3, 40, 5, 1], [3, 80, 7, 2], [3, 80, 3, 1], [6, 80, 3, 1], [3, 80, 5, 1],
        [3, 96, 3, 1], [6, 96, 3, 1], [3, 96, 7, 1], [3, 96, 3, 1], [6, 192, 7, 2],
        [6, 192, 5, 1], [6, 192, 7, 1], [6, 192, 3, 1], [6, 320, 5, 1],
    ],
    "C": [
        [3, 32, 5, 2], [3, 32, 3, 1], [3, 40, 7, 2], [3, 40, 3, 1], [3, 40, 3, 1],
        [3, 40, 3, 1], [3, 80, 3, 2], [3, 80, 3, 1], [3, 80, 3, 1], [6, 80, 3, 1],
        [3, 96, 3, 1], [3, 96, 3, 1], [3, 96, 3, 1], [3, 96, 3, 1], [6, 192, 7, 2],
        [6, 192, 7, 1], [6, 192, 3, 1], [6, 192, 3, 1], [6, 320, 5, 1],
    ],
}  # fmt: skip

# Table 2 (README images/result.png @ fa0d393): multiply-adds (M), params (M), top-1 / top-5 (%).
_TABLE_2 = {"A": (388, 4.6, 75.3, 92.4), "B": (345, 4.5, 75.1, 92.3), "C": (321, 4.4, 74.7, 92.1)}

MODELS: dict[str, FairNasArch] = {
    f"fairnas_{v.lower()}": FairNasArch.from_mb_config(rows) for v, rows in MB_CONFIGS.items()
}


def _provenance(variant: str) -> dict[str, str]:
    macs, params, top1, top5 = _TABLE_2[variant]
    return {
        **Provenance(
            paper=_PAPER,
            paper_id="arXiv:1907.01845",
            origin=_ORIGIN.format(variant),
            origin_url=_FAIRNAS_URL,
            table=(
                f"Table 2 (README images/result.png): FairNAS-{variant} {macs}M multiply-adds,"
                f" {params}M params, {top1} / {top5} % top-1 / top-5 on ImageNet"
            ),
            notes=(
                "Built from the official mb_config with timm's InvertedResidual and"
                " DepthwiseSeparableConv (same layers and parameters as the official modules,"
                " timm's module names). Choice ids use our own (expansion, kernel) order; the"
                " repository publishes no encoding."
            ),
        ).as_dict(),
        "network": f"FairNasNet (models/FairNAS_{variant}.py FairNas{variant}), 224x224",
        "published_size": f"{macs}M multiply-adds, {params}M params (Table 2)",
    }


PROVENANCE: dict[str, dict[str, str]] = {f"fairnas_{v.lower()}": _provenance(v) for v in MB_CONFIGS}

# dataloader.py @ fa0d393: Resize(256), CenterCrop(224), Normalize(ImageNet mean/std).
default_cfgs = generate_default_cfgs(
    {
        name: imagenet_cfg(
            prov, f"FairNAS {MODELS[name]} ({prov['origin']})", "stem.conv", "classifier"
        )
        for name, prov in PROVENANCE.items()
    }
)


def _create(name: str, pretrained: bool, kwargs: dict[str, Any]) -> nn.Module:
    return create_with_cfg(
        FairNasNet, name, pretrained, PROVENANCE[name], arch=MODELS[name], **kwargs
    )


@register_model
def fairnas_a(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """FairNAS-A (models/FairNAS_A.py), Table 2: 388M multiply-adds, 4.6M params."""
    return _create("fairnas_a", pretrained, kwargs)


@register_model
def fairnas_b(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """FairNAS-B (models/FairNAS_B.py), Table 2: 345M multiply-adds, 4.5M params."""
    return _create("fairnas_b", pretrained, kwargs)


@register_model
def fairnas_c(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """FairNAS-C (models/FairNAS_C.py), Table 2: 321M multiply-adds, 4.4M params."""
    return _create("fairnas_c", pretrained, kwargs)
