"""Published NASNet-space networks as timm models: what NASNet's and PNAS's ``models.py`` share.

A paper describes each model with ``PublishedNetwork`` (cells, TF-slim hyper-parameters,
provenance), builds its timm ``default_cfgs`` and provenance with ``published_cfgs`` (its own
networks and the DARTS-space re-encodings of its cells) and writes one ``@register_model``
function whose body is ``create(spec, name, pretrained, kwargs)``.
Keyword overrides are ``NetworkConfig`` fields (``num_classes=100``, ``use_aux_head=False``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from timm.models import generate_default_cfgs

from common.errors import NasReproError
from common.spaces.darts.registry import PublishedCell, PublishedModel, provenance, register
from common.spaces.nasnet.cell import Cell
from common.spaces.nasnet.model import NASNetwork, NetworkConfig
from common.spaces.published import IMAGENET_MEAN, IMAGENET_STD, provenance_cfg, refuse_pretrained

# Input statistics for the CIFAR networks (no weights are loaded; the DARTS pipeline's values).
CIFAR_MEAN = (0.49139968, 0.48215827, 0.44653124)
CIFAR_STD = (0.24703233, 0.24348505, 0.26158768)
_TIMM_ARGS = ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir")


@dataclass(frozen=True)
class PublishedNetwork:
    normal: Cell
    reduction: Cell | None  # None: PNAS's one cell, strided at the reductions
    config: NetworkConfig
    provenance: dict[str, str]  # Provenance.as_dict() plus "network" and "published_size"


def timm_cfg(spec: PublishedNetwork, description: str) -> dict[str, Any]:
    cfg = spec.config
    cifar = cfg.stem == "cifar"
    return {
        "num_classes": cfg.num_classes,
        "input_size": (3, cfg.image_size, cfg.image_size),
        "fixed_input_size": cfg.use_aux_head,  # the aux head's last conv covers a fixed map
        "mean": CIFAR_MEAN if cifar else IMAGENET_MEAN,
        "std": CIFAR_STD if cifar else IMAGENET_STD,
        "crop_pct": 1.0 if cifar else 0.875,
        "interpolation": "bilinear",
        "first_conv": "stem.0",
        "classifier": "classifier",
        **provenance_cfg(spec.provenance, description),
    }


def published_cfgs(
    title: str,
    networks: dict[str, PublishedNetwork],
    darts_cells: dict[str, PublishedCell],
    darts_models: dict[str, PublishedModel],
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """A paper's timm ``default_cfgs`` (assign it to the module's ``default_cfgs`` before the
    entry points: timm's ``register_model`` reads it) and the provenance of every model, after
    registering the DARTS-space re-encodings of its cells."""
    cfgs = register(darts_cells, darts_models)
    cfgs.update(
        generate_default_cfgs(
            {
                name: timm_cfg(spec, f"{title} ({spec.provenance['network']})")
                for name, spec in networks.items()
            }
        )
    )
    prov = {
        **{name: provenance(name) for name in darts_models},
        **{name: spec.provenance for name, spec in networks.items()},
    }
    return cfgs, prov


def create(
    spec: PublishedNetwork, name: str, pretrained: bool, kwargs: dict[str, Any]
) -> NASNetwork:
    """The body of a timm entry point (no weights are released here)."""
    refuse_pretrained(name, pretrained)
    for key in _TIMM_ARGS:
        kwargs.pop(key, None)
    fields = {f.name for f in dataclasses.fields(NetworkConfig)}
    bad = sorted(set(kwargs) - fields)
    if bad:
        raise NasReproError(f"{name} takes NetworkConfig fields only; got {', '.join(bad)}")
    config = dataclasses.replace(spec.config, **kwargs)
    model = NASNetwork(spec.normal, spec.reduction, config)
    cfg = {**timm_cfg(spec, name), "architecture": name, "num_classes": config.num_classes}
    model.pretrained_cfg = cfg  # type: ignore[assignment]
    model.default_cfg = cfg  # type: ignore[assignment]
    model.provenance = dict(spec.provenance)  # type: ignore[assignment]
    return model
