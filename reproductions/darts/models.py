"""The published cells of the DARTS space as timm models (DARTS, ICLR 2019, Tables 1 and 3).

``timm.create_model("darts_v2_cifar10")`` builds the DARTS_V2 cell in the CIFAR-10 evaluation
network (20 cells, 36 channels, auxiliary head); overrides go by keyword
(``drop_path_prob=0.2``, ``auxiliary=False``, ``num_classes=100``). There are no released
weights here: ``pretrained=True`` is an error. Each model's provenance (paper, table, origin
file and commit, notes) is in ``PROVENANCE``, in ``model.provenance`` and, in timm's fields,
in ``model.pretrained_cfg`` / ``timm.models.get_pretrained_cfg(name)``.

The data live in ``common.spaces.darts.registry``; this module is only the timm entry point.
"""

from __future__ import annotations

from typing import Any

from timm.models import generate_default_cfgs, register_model

from common.errors import NasReproError
from common.spaces.darts.model import NetworkCIFAR, NetworkImageNet
from common.spaces.darts.registry import MODELS, build_model, provenance, timm_cfg

# timm's register_model reads this module attribute to attach each model's pretrained cfg.
default_cfgs = generate_default_cfgs({name: timm_cfg(name) for name in MODELS})

PROVENANCE: dict[str, dict[str, str]] = {name: provenance(name) for name in MODELS}

# Arguments timm.create_model passes to every entry point; these networks take none of them.
_TIMM_ARGS = ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir")


def _create(name: str, pretrained: bool, kwargs: dict[str, Any]) -> NetworkCIFAR | NetworkImageNet:
    if pretrained:
        raise NasReproError(f"no pretrained weights are registered for {name}; train it first")
    for key in _TIMM_ARGS:
        kwargs.pop(key, None)
    return build_model(name, **kwargs)


@register_model
def darts_v1_cifar10(pretrained: bool = False, **kwargs: Any) -> NetworkCIFAR | NetworkImageNet:
    """DARTS_V1 cell (June 2018 code release), CIFAR-10 network."""
    return _create("darts_v1_cifar10", pretrained, kwargs)


@register_model
def darts_v2_cifar10(pretrained: bool = False, **kwargs: Any) -> NetworkCIFAR | NetworkImageNet:
    """DARTS_V2 cell (the repository's default DARTS), CIFAR-10 network (Table 1)."""
    return _create("darts_v2_cifar10", pretrained, kwargs)


@register_model
def darts_v2_imagenet(pretrained: bool = False, **kwargs: Any) -> NetworkCIFAR | NetworkImageNet:
    """DARTS_V2 cell, ImageNet mobile-setting network (Table 3)."""
    return _create("darts_v2_imagenet", pretrained, kwargs)


@register_model
def nasnet_a_darts_space_cifar10(
    pretrained: bool = False, **kwargs: Any
) -> NetworkCIFAR | NetworkImageNet:
    """NASNet-A as the DARTS repository encodes it, in the DARTS CIFAR-10 network."""
    return _create("nasnet_a_darts_space_cifar10", pretrained, kwargs)


@register_model
def amoebanet_a_darts_space_cifar10(
    pretrained: bool = False, **kwargs: Any
) -> NetworkCIFAR | NetworkImageNet:
    """AmoebaNet-A as the DARTS repository encodes it, in the DARTS CIFAR-10 network."""
    return _create("amoebanet_a_darts_space_cifar10", pretrained, kwargs)


@register_model
def enas_darts_space_cifar10(
    pretrained: bool = False, **kwargs: Any
) -> NetworkCIFAR | NetworkImageNet:
    """ENAS's released final micro cell (fixed_arc) as a genotype, DARTS CIFAR-10 network."""
    return _create("enas_darts_space_cifar10", pretrained, kwargs)


@register_model
def enas_nsganet_darts_space_cifar10(
    pretrained: bool = False, **kwargs: Any
) -> NetworkCIFAR | NetworkImageNet:
    """ENAS as NSGA-Net's repository encodes it, DARTS CIFAR-10 network."""
    return _create("enas_nsganet_darts_space_cifar10", pretrained, kwargs)


@register_model
def pnasnet5_darts_space_cifar10(
    pretrained: bool = False, **kwargs: Any
) -> NetworkCIFAR | NetworkImageNet:
    """PNASNet-5 as PNASNet.pytorch encodes it, DARTS CIFAR-10 network."""
    return _create("pnasnet5_darts_space_cifar10", pretrained, kwargs)


@register_model
def tenas_cifar10(pretrained: bool = False, **kwargs: Any) -> NetworkCIFAR | NetworkImageNet:
    """TE-NAS's released CIFAR-10 cell (DARTS_evaluation), DARTS CIFAR-10 network."""
    return _create("tenas_cifar10", pretrained, kwargs)
