"""Published cells of the DARTS space as timm models: the machinery every paper shares.

Each paper keeps its own published cells, their provenance and its timm entry points in
``reproductions/<paper>/models.py``: it describes them with ``PublishedCell`` /
``PublishedModel``, hands them to ``register`` (which returns the module's timm
``default_cfgs``) and writes one ``@register_model`` function per model whose body is
``create(name, pretrained, kwargs)``. ``import reproductions`` imports every paper's module;
``common`` never imports ``reproductions``, so ``CELLS``, ``GENOTYPES`` and ``MODELS`` below
hold what has been registered so far, as timm's own registry does.

Cells found by other searches in other spaces (NASNet-A, AmoebaNet-A, ENAS, PNASNet-5) are
re-encodings with 5 nodes and, for some, ops outside ``PRIMITIVES``; their papers check them
with ``validate(steps=None, ops=ALL_OPS)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.errors import NasReproError, choices_error
from common.spaces.darts.genotype import Genotype
from common.spaces.darts.model import NetworkCIFAR, NetworkImageNet
from common.spaces.published import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Provenance,
    provenance_cfg,
    refuse_pretrained,
)

# The file most DARTS-space encodings of published cells are read from.
DARTS_GENOTYPES_FILE = "github.com/quark0/darts cnn/genotypes.py @ f276dd3"
DARTS_URL = "https://github.com/quark0/darts"

# App. A.2.1: 20 cells, 36 channels, auxiliary head; App. A.2.3 + cnn/train_imagenet.py: 14
# cells, 48 channels. The cells of other papers are placed in the DARTS CIFAR network.
CIFAR_NETWORK: dict[str, Any] = {"C": 36, "num_classes": 10, "layers": 20, "auxiliary": True}
IMAGENET_NETWORK: dict[str, Any] = {"C": 48, "num_classes": 1000, "layers": 14, "auxiliary": True}

# Input statistics of the DARTS authors' data pipelines (cnn/utils.py, cnn/train_imagenet.py).
CIFAR_MEAN = (0.49139968, 0.48215827, 0.44653124)
CIFAR_STD = (0.24703233, 0.24348505, 0.26158768)

# Arguments timm.create_model passes to every entry point; these networks take none of them.
_TIMM_ARGS = ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir")


@dataclass(frozen=True)
class PublishedCell:
    genotype: Genotype
    provenance: Provenance


@dataclass(frozen=True)
class PublishedModel:
    """A registered cell in a concrete network: ``network`` is "cifar" or "imagenet",
    ``kwargs`` its constructor arguments (without the genotype)."""

    cell: str
    network: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    published: str = ""  # the size the literature reports for exactly this network, if any

    @property
    def provenance(self) -> Provenance:
        return CELLS[self.cell].provenance


CELLS: dict[str, PublishedCell] = {}
GENOTYPES: dict[str, Genotype] = {}
MODELS: dict[str, PublishedModel] = {}


def ops(entries: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """A cell's (op, input) pairs as the tuple ``Genotype`` holds."""
    return tuple(entries)


def _add(table: dict, kind: str, name: str, value: Any) -> None:
    if name in table and table[name] != value:  # re-importing the same module is harmless
        raise NasReproError(f"published {kind} {name!r} is registered twice, differently")
    table[name] = value


def register(cells: dict[str, PublishedCell], models: dict[str, PublishedModel]) -> dict[str, Any]:
    """Add a paper's cells and models to the registry; returns the timm ``default_cfgs`` of
    its models (assign it to the module's ``default_cfgs`` before the entry points)."""
    from timm.models import generate_default_cfgs

    for name, cell in cells.items():
        _add(CELLS, "cell", name, cell)
        GENOTYPES[name] = cell.genotype
    for name, spec in models.items():
        if spec.cell not in CELLS:
            raise choices_error("published DARTS-space cell", spec.cell, tuple(CELLS))
        if spec.network not in ("cifar", "imagenet"):
            raise choices_error("network", spec.network, ("cifar", "imagenet"))
        _add(MODELS, "model", name, spec)
    return generate_default_cfgs({name: timm_cfg(name) for name in models})


def provenance(name: str) -> dict[str, str]:
    """Provenance of a registered model: the cell's, plus the network and published size."""
    spec = _spec(name)
    setting = ", ".join(f"{k}={v}" for k, v in spec.kwargs.items())
    return {
        **spec.provenance.as_dict(),
        "cell": spec.cell,
        "network": f"Network{'CIFAR' if spec.network == 'cifar' else 'ImageNet'}({setting})",
        "published_size": spec.published or "none stated for this network",
    }


def timm_cfg(name: str) -> dict[str, Any]:
    """The model's timm pretrained-cfg fields (no weights: ``url``/``hf_hub_id`` unset)."""
    spec = _spec(name)
    prov = spec.provenance
    common = {
        "num_classes": spec.kwargs["num_classes"],
        "classifier": "classifier",
        **provenance_cfg(prov.as_dict(), f"{spec.cell} cell ({prov.origin})"),
    }
    if spec.network == "cifar":
        return {
            **common,
            "input_size": (3, 32, 32),
            "fixed_input_size": True,  # the aux head assumes an 8x8 map, i.e. 32x32 images
            "mean": CIFAR_MEAN,
            "std": CIFAR_STD,
            "crop_pct": 1.0,
            "first_conv": "stem.0",
        }
    return {
        **common,
        "input_size": (3, 224, 224),
        "fixed_input_size": True,  # AvgPool2d(7) at the end expects a 7x7 map
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "crop_pct": 0.875,  # test_imagenet.py: Resize(256), CenterCrop(224)
        "interpolation": "bilinear",
        "first_conv": "stem0.0",
    }


def build_model(name: str, **overrides: Any) -> NetworkCIFAR | NetworkImageNet:
    """The network of a registered model, with constructor arguments overridden by keyword
    (e.g. ``drop_path_prob=0.2``); it carries ``pretrained_cfg`` and ``provenance`` dicts."""
    spec = _spec(name)
    kwargs = {**spec.kwargs, **overrides}
    genotype = GENOTYPES[spec.cell]
    model: NetworkCIFAR | NetworkImageNet
    if spec.network == "cifar":
        model = NetworkCIFAR(genotype=genotype, **kwargs)
    else:
        model = NetworkImageNet(genotype=genotype, **kwargs)
    cfg = {**timm_cfg(name), "architecture": name, "num_classes": kwargs["num_classes"]}
    model.pretrained_cfg = cfg
    model.default_cfg = cfg  # timm's older name for the same dict
    model.provenance = provenance(name)
    return model


def create(name: str, pretrained: bool, kwargs: dict[str, Any]) -> NetworkCIFAR | NetworkImageNet:
    """The body of a timm entry point: no weights are released here, and timm's own
    arguments are dropped before the network's constructor sees the rest."""
    refuse_pretrained(name, pretrained)
    for key in _TIMM_ARGS:
        kwargs.pop(key, None)
    return build_model(name, **kwargs)


def _spec(name: str) -> PublishedModel:
    if name not in MODELS:
        raise choices_error("published DARTS-space model", name, tuple(MODELS))
    return MODELS[name]
