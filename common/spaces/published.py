"""What every published architecture registered as a timm model shares, whatever its space:
its provenance, the timm config fields that carry it, and the body of a timm entry point
(no released weights here, so ``pretrained=True`` is an error).

Space-specific registries build on it: ``common.spaces.darts.registry`` (cells in the DARTS
networks) and the papers' own ``models.py`` for other spaces (SPOS, FairNAS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from torch import nn

from common.errors import NasReproError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Provenance:
    """Where a published architecture comes from: the paper that found it, the table that
    reports it, the file it was read from, and what differs from the paper's network."""

    paper: str
    paper_id: str
    origin: str
    origin_url: str
    table: str
    notes: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def provenance_cfg(prov: dict[str, str], description: str) -> dict[str, Any]:
    """The timm pretrained-cfg fields that carry a model's provenance."""
    return {
        "paper_ids": prov["paper_id"],
        "paper_name": prov["paper"],
        "origin_url": prov["origin_url"],
        "description": description,
        "notes": (prov["table"], prov["notes"]),
    }


def imagenet_cfg(
    prov: dict[str, str], description: str, first_conv: str, classifier: str
) -> dict[str, Any]:
    """timm cfg of an ImageNet model evaluated with Resize(256), CenterCrop(224) and the
    ImageNet mean/std (the SPOS and FairNAS evaluation pipelines)."""
    return {
        "num_classes": 1000,
        "input_size": (3, 224, 224),
        "crop_pct": 0.875,
        "interpolation": "bilinear",
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "first_conv": first_conv,
        "classifier": classifier,
        **provenance_cfg(prov, description),
    }


def refuse_pretrained(name: str, pretrained: bool) -> None:
    if pretrained:
        raise NasReproError(f"no pretrained weights are registered for {name}; train it first")


def create_with_cfg(
    cls: Callable[..., nn.Module],
    name: str,
    pretrained: bool,
    provenance: dict[str, str],
    **kwargs: Any,
) -> nn.Module:
    """A timm entry point's body for a model class timm can build with its cfg."""
    from timm.models import build_model_with_cfg

    refuse_pretrained(name, pretrained)
    model = build_model_with_cfg(cls, name, False, **kwargs)
    model.provenance = dict(provenance)
    return model
