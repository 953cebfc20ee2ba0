"""Published cells of the DARTS space and the networks the literature trains them in, with
where each comes from. Pure data plus builders; ``reproductions/darts/models.py`` registers
the models with timm (``common`` never imports ``reproductions``).

Genotype data come from the project notes (shared/research/architectures.md), which record
the source file and commit of each; the provenance below repeats them. NASNet-A, AmoebaNet-A,
ENAS and PNASNet-5 were found by other searches in other spaces; their "DARTS-space" genotypes
are re-encodings with 5 nodes and, for some, ops outside ``PRIMITIVES`` (see each note), so
they are checked with ``validate(steps=None, ops=ALL_OPS)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from common.errors import choices_error
from common.spaces.darts.genotype import ALL_OPS, Genotype
from common.spaces.darts.model import NetworkCIFAR, NetworkImageNet


@dataclass(frozen=True)
class Provenance:
    """Where a published cell comes from: the paper that found it, the table that reports it,
    the file its genotype was read from, and what differs from the paper's network."""

    paper: str
    paper_id: str
    origin: str
    origin_url: str
    table: str
    notes: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class PublishedCell:
    genotype: Genotype
    provenance: Provenance


def _cell(entries: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    return tuple(entries)


_DARTS_PAPER = "Liu, Simonyan & Yang. DARTS: Differentiable Architecture Search. ICLR 2019"
_DARTS_ORIGIN = "github.com/quark0/darts cnn/genotypes.py @ f276dd3"
_V1_V2_NOTE = (
    "V1/V2 are code-release versions, not first/second-order DARTS: DARTS_V1 is the cell of the"
    " June 2018 code release (8876e79), DARTS_V2 was added with rerun experiments in a00cad0"
    " (2018-08-03) and is the default DARTS of cnn/train.py."
)
_PNAS_CELL = _cell(
    [("sep_conv_5x5", 0), ("max_pool_3x3", 0), ("sep_conv_7x7", 1), ("max_pool_3x3", 1)]
    + [("sep_conv_5x5", 1), ("sep_conv_3x3", 1), ("sep_conv_3x3", 4), ("max_pool_3x3", 1)]
    + [("sep_conv_3x3", 0), ("skip_connect", 1)]
)

CELLS: dict[str, PublishedCell] = {
    "DARTS_V2": PublishedCell(
        Genotype(
            normal=_cell(
                [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1)]
                + [("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0)]
                + [("dil_conv_3x3", 2)]
            ),
            normal_concat=(2, 3, 4, 5),
            reduce=_cell(
                [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1)]
                + [("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2)]
                + [("max_pool_3x3", 1)]
            ),
            reduce_concat=(2, 3, 4, 5),
        ).validate(),
        Provenance(
            paper=_DARTS_PAPER,
            paper_id="arXiv:1806.09055",
            origin=f"{_DARTS_ORIGIN} (DARTS_V2)",
            origin_url="https://github.com/quark0/darts",
            table=(
                "Table 1: DARTS (second order) + cutout, 2.76 +- 0.09 % test error, 3.3M params;"
                " Table 3 (ImageNet mobile): 26.7 / 8.7 % top-1/top-5 error, 4.7M, 574M mult-adds"
            ),
            notes=_V1_V2_NOTE,
        ),
    ),
    "DARTS_V1": PublishedCell(
        Genotype(
            normal=_cell(
                [("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1)]
                + [("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0)]
                + [("skip_connect", 2)]
            ),
            normal_concat=(2, 3, 4, 5),
            reduce=_cell(
                [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0)]
                + [("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2)]
                + [("avg_pool_3x3", 0)]
            ),
            reduce_concat=(2, 3, 4, 5),
        ).validate(),
        Provenance(
            paper=_DARTS_PAPER,
            paper_id="arXiv:1806.09055",
            origin=f"{_DARTS_ORIGIN} (DARTS_V1)",
            origin_url="https://github.com/quark0/darts",
            table="none: no table of the ICLR paper is tied to this cell",
            notes=_V1_V2_NOTE,
        ),
    ),
    "NASNet": PublishedCell(
        Genotype(
            normal=_cell(
                [("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 0), ("sep_conv_3x3", 0)]
                + [("avg_pool_3x3", 1), ("skip_connect", 0), ("avg_pool_3x3", 0)]
                + [("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 1)]
            ),
            normal_concat=(2, 3, 4, 5, 6),
            reduce=_cell(
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
            origin=f"{_DARTS_ORIGIN} (NASNet)",
            origin_url="https://github.com/quark0/darts",
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
    "AmoebaNet": PublishedCell(
        Genotype(
            normal=_cell(
                [("avg_pool_3x3", 0), ("max_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2)]
                + [("sep_conv_3x3", 0), ("avg_pool_3x3", 3), ("sep_conv_3x3", 1)]
                + [("skip_connect", 1), ("skip_connect", 0), ("avg_pool_3x3", 1)]
            ),
            normal_concat=(4, 5, 6),
            reduce=_cell(
                [("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("max_pool_3x3", 0), ("sep_conv_7x7", 2)]
                + [("sep_conv_7x7", 0), ("avg_pool_3x3", 1), ("max_pool_3x3", 0)]
                + [("max_pool_3x3", 1), ("conv_7x1_1x7", 0), ("sep_conv_3x3", 5)]
            ),
            reduce_concat=(3, 4, 6),
        ).validate(steps=None, ops=ALL_OPS),
        Provenance(
            paper=(
                "Real, Aggarwal, Huang & Le. Regularized Evolution for Image Classifier"
                " Architecture Search. AAAI 2019"
            ),
            paper_id="arXiv:1802.01548",
            origin=f"{_DARTS_ORIGIN} (AmoebaNet)",
            origin_url="https://github.com/quark0/darts",
            table=(
                "DARTS Table 1, dagger row (trained in the DARTS setup): AmoebaNet-A + cutout,"
                " 3.12 % test error, 3.1M params"
            ),
            notes=(
                "5 nodes; uses sep_conv_7x7 and conv_7x1_1x7. This encoding was not checked"
                " against the original TF AmoebaNet-A spec."
            ),
        ),
    ),
    "ENAS": PublishedCell(
        Genotype(
            # fixed_arc normal "0 2 0 0 | 0 4 0 1 | 0 4 1 1 | 1 0 0 1 | 0 2 1 1"
            normal=_cell(
                [("avg_pool_3x3", 0), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_5x5", 0)]
                + [("skip_connect", 0), ("sep_conv_5x5", 1), ("sep_conv_3x3", 1)]
                + [("sep_conv_5x5", 0), ("avg_pool_3x3", 0), ("sep_conv_5x5", 1)]
            ),
            normal_concat=(2, 3, 4, 5, 6),  # no block feeds another: all 5 are concatenated
            # fixed_arc reduce "1 0 1 0 | 0 3 0 2 | 1 1 3 1 | 1 0 0 4 | 0 3 1 1"
            reduce=_cell(
                [("sep_conv_3x3", 1), ("sep_conv_3x3", 1), ("max_pool_3x3", 0), ("avg_pool_3x3", 0)]
                + [("sep_conv_5x5", 1), ("sep_conv_5x5", 3), ("sep_conv_3x3", 1)]
                + [("skip_connect", 0), ("max_pool_3x3", 0), ("sep_conv_5x5", 1)]
            ),
            reduce_concat=(2, 4, 5, 6),  # block 3 feeds block 4, so it is not concatenated
        ).validate(steps=None, ops=ALL_OPS),
        Provenance(
            paper=(
                "Pham, Guan, Zoph, Le & Dean. Efficient Neural Architecture Search via Parameter"
                " Sharing. ICML 2018"
            ),
            paper_id="arXiv:1802.03268",
            origin=(
                "github.com/melodyguan/enas scripts/cifar10_micro_final.sh @ 4bcfd73 (fixed_arc),"
                " decoded here: blocks (index_1, op_1, index_2, op_2), index 0 = cell k-2,"
                " 1 = cell k-1; ops 0 sep_conv_3x3, 1 sep_conv_5x5, 2 avg_pool_3x3,"
                " 3 max_pool_3x3, 4 identity = skip_connect; unused blocks concatenated"
            ),
            origin_url="https://github.com/melodyguan/enas",
            table=(
                "DARTS Table 1 lists ENAS + cutout at 2.89 %, 4.6M: ENAS's own network, not this"
                " re-encoding"
            ),
            notes=(
                "ENAS's network differs from the DARTS one around the cell (input calibration"
                " convs, a 1x1 conv after the concat, factorized reduction before reduction"
                " cells, 15 layers); only the cell is carried over. The re-encoding in"
                " ianwhale/nsga-net (registered as ENAS_NSGANet) differs from this decoding."
            ),
        ),
    ),
    "ENAS_NSGANet": PublishedCell(
        Genotype(
            normal=_cell(
                [("sep_conv_3x3", 1), ("skip_connect", 1), ("sep_conv_5x5", 1), ("skip_connect", 0)]
                + [("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0)]
                + [("avg_pool_3x3", 0), ("sep_conv_5x5", 1), ("avg_pool_3x3", 0)]
            ),
            normal_concat=(2, 3, 4, 5, 6),
            reduce=_cell(
                [("sep_conv_5x5", 0), ("avg_pool_3x3", 1), ("sep_conv_3x3", 1), ("avg_pool_3x3", 1)]
                + [("avg_pool_3x3", 1), ("sep_conv_3x3", 1), ("sep_conv_5x5", 4)]
                + [("avg_pool_3x3", 1), ("sep_conv_3x3", 5), ("sep_conv_5x5", 0)]
            ),
            reduce_concat=(2, 3, 6),
        ).validate(steps=None, ops=ALL_OPS),
        Provenance(
            paper=(
                "Pham, Guan, Zoph, Le & Dean. Efficient Neural Architecture Search via Parameter"
                " Sharing. ICML 2018"
            ),
            paper_id="arXiv:1802.03268",
            origin="github.com/ianwhale/nsga-net models/micro_genotypes.py @ e939cde (ENAS)",
            origin_url="https://github.com/ianwhale/nsga-net",
            table="none for this encoding (NSGA-Net's baseline genotype)",
            notes=(
                "The NSGA-Net authors' re-encoding; it does not match the decoding of the"
                " fixed_arc released with ENAS (see ENAS) and does not state its source. Other"
                " repositories copy it with small changes."
            ),
        ),
    ),
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
    "TENAS_cifar10": PublishedCell(
        Genotype(
            normal=_cell(
                [("dil_conv_3x3", 0), ("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 2)]
                + [("skip_connect", 0), ("dil_conv_5x5", 1), ("sep_conv_3x3", 1)]
                + [("sep_conv_5x5", 3)]
            ),
            normal_concat=(2, 3, 4, 5),
            reduce=_cell(
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

GENOTYPES: dict[str, Genotype] = {name: cell.genotype for name, cell in CELLS.items()}

# Input statistics of the authors' data pipelines (cnn/utils.py, cnn/train_imagenet.py).
CIFAR_MEAN = (0.49139968, 0.48215827, 0.44653124)
CIFAR_STD = (0.24703233, 0.24348505, 0.26158768)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PublishedModel:
    """A cell in a concrete network: ``network`` is "cifar" or "imagenet", ``kwargs`` its
    constructor arguments (without the genotype)."""

    cell: str
    network: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    published: str = ""  # the size the literature reports for exactly this network, if any

    @property
    def provenance(self) -> Provenance:
        return CELLS[self.cell].provenance


# App. A.2.1: 20 cells, 36 channels, auxiliary head; App. A.2.3 + cnn/train_imagenet.py: 14
# cells, 48 channels. The cells of other papers are placed in the DARTS CIFAR network.
_CIFAR = {"C": 36, "num_classes": 10, "layers": 20, "auxiliary": True}
_IMAGENET = {"C": 48, "num_classes": 1000, "layers": 14, "auxiliary": True}

MODELS: dict[str, PublishedModel] = {
    "darts_v1_cifar10": PublishedModel("DARTS_V1", "cifar", _CIFAR),
    "darts_v2_cifar10": PublishedModel(
        "DARTS_V2", "cifar", _CIFAR, published="3.3M params (DARTS Table 1)"
    ),
    "darts_v2_imagenet": PublishedModel(
        "DARTS_V2", "imagenet", _IMAGENET, published="4.7M params, 574M mult-adds (Table 3)"
    ),
    "nasnet_a_darts_space_cifar10": PublishedModel(
        "NASNet", "cifar", _CIFAR, published="3.1M params at an unstated width (DARTS Table 1)"
    ),
    "amoebanet_a_darts_space_cifar10": PublishedModel(
        "AmoebaNet", "cifar", _CIFAR, published="3.1M params (DARTS Table 1)"
    ),
    "enas_darts_space_cifar10": PublishedModel("ENAS", "cifar", _CIFAR),
    "enas_nsganet_darts_space_cifar10": PublishedModel("ENAS_NSGANet", "cifar", _CIFAR),
    "pnasnet5_darts_space_cifar10": PublishedModel("PNASNet", "cifar", _CIFAR),
    "tenas_cifar10": PublishedModel(
        "TENAS_cifar10", "cifar", _CIFAR, published="none for this cell (Table 2: 3.8M, 4 cells)"
    ),
}


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
        "paper_ids": prov.paper_id,
        "paper_name": prov.paper,
        "origin_url": prov.origin_url,
        "description": f"{spec.cell} cell ({prov.origin})",
        "notes": (prov.table, prov.notes),
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


def _spec(name: str) -> PublishedModel:
    if name not in MODELS:
        raise choices_error("published DARTS-space model", name, tuple(MODELS))
    return MODELS[name]
