"""ENAS (Pham, Guan, Zoph, Le & Dean, "Efficient Neural Architecture Search via Parameter
Sharing", ICML 2018; arXiv:1802.03268) as timm models: the released final micro arc in
ENAS's own final network (``enas_micro_cifar10``, ``micro_final.EnasMicroFinalNet``); the
same cell decoded into a DARTS-space genotype, and NSGA-Net's re-encoding of it, each in the
DARTS CIFAR-10 network.

Sizes (``tests/reproductions/enas/test_enas_models.py`` derives the official count from the
variables ``micro_child.py`` creates): ENAS's network as ``cifar10_micro_final.sh`` builds it
has 3,894,372 parameters by the official count (the "Model has N params" print: BN scale and
offset included, the auxiliary head left out), 4,389,220 with the head. Neither is the 4.6M
quoted for ENAS (DARTS Table 1); the same network with 18 + 2 layers (20 cells, as the DARTS
network) has 4,587,372 (4.6M).
"""

from __future__ import annotations

from typing import Any

from timm.models import generate_default_cfgs, register_model
from torch import nn

from common.spaces.darts.genotype import ALL_OPS, Genotype
from common.spaces.darts.registry import (
    CIFAR_MEAN,
    CIFAR_NETWORK,
    CIFAR_STD,
    Provenance,
    PublishedCell,
    PublishedModel,
    create,
    ops,
    provenance,
    register,
)
from common.spaces.published import create_with_cfg, provenance_cfg
from reproductions.enas.macro_final import EnasMacroFinalNet
from reproductions.enas.micro_final import EnasMicroFinalNet

_PAPER = (
    "Pham, Guan, Zoph, Le & Dean. Efficient Neural Architecture Search via Parameter Sharing."
    " ICML 2018"
)

CELLS: dict[str, PublishedCell] = {
    "ENAS": PublishedCell(
        Genotype(
            # fixed_arc normal "0 2 0 0 | 0 4 0 1 | 0 4 1 1 | 1 0 0 1 | 0 2 1 1"
            normal=ops(
                [("avg_pool_3x3", 0), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_5x5", 0)]
                + [("skip_connect", 0), ("sep_conv_5x5", 1), ("sep_conv_3x3", 1)]
                + [("sep_conv_5x5", 0), ("avg_pool_3x3", 0), ("sep_conv_5x5", 1)]
            ),
            normal_concat=(2, 3, 4, 5, 6),  # no block feeds another: all 5 are concatenated
            # fixed_arc reduce "1 0 1 0 | 0 3 0 2 | 1 1 3 1 | 1 0 0 4 | 0 3 1 1"
            reduce=ops(
                [("sep_conv_3x3", 1), ("sep_conv_3x3", 1), ("max_pool_3x3", 0), ("avg_pool_3x3", 0)]
                + [("sep_conv_5x5", 1), ("sep_conv_5x5", 3), ("sep_conv_3x3", 1)]
                + [("skip_connect", 0), ("max_pool_3x3", 0), ("sep_conv_5x5", 1)]
            ),
            reduce_concat=(2, 4, 5, 6),  # block 3 feeds block 4, so it is not concatenated
        ).validate(steps=None, ops=ALL_OPS),
        Provenance(
            paper=_PAPER,
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
            normal=ops(
                [("sep_conv_3x3", 1), ("skip_connect", 1), ("sep_conv_5x5", 1), ("skip_connect", 0)]
                + [("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0)]
                + [("avg_pool_3x3", 0), ("sep_conv_5x5", 1), ("avg_pool_3x3", 0)]
            ),
            normal_concat=(2, 3, 4, 5, 6),
            reduce=ops(
                [("sep_conv_5x5", 0), ("avg_pool_3x3", 1), ("sep_conv_3x3", 1), ("avg_pool_3x3", 1)]
                + [("avg_pool_3x3", 1), ("sep_conv_3x3", 1), ("sep_conv_5x5", 4)]
                + [("avg_pool_3x3", 1), ("sep_conv_3x3", 5), ("sep_conv_5x5", 0)]
            ),
            reduce_concat=(2, 3, 6),
        ).validate(steps=None, ops=ALL_OPS),
        Provenance(
            paper=_PAPER,
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
}

DARTS_MODELS: dict[str, PublishedModel] = {
    "enas_darts_space_cifar10": PublishedModel("ENAS", "cifar", CIFAR_NETWORK),
    "enas_nsganet_darts_space_cifar10": PublishedModel("ENAS_NSGANet", "cifar", CIFAR_NETWORK),
}
# ENAS's own networks: name -> (class, what the network is)
OWN_MODELS: dict[str, tuple[type[nn.Module], str]] = {
    "enas_micro_cifar10": (
        EnasMicroFinalNet,
        "EnasMicroFinalNet(C=36, num_layers=15: 15 + 2 reduction layers, auxiliary head,"
        " keep 0.8, drop path keep 0.6), micro_child.py _fixed_layer",
    ),
    "enas_macro_cifar10": (
        EnasMacroFinalNet,
        "EnasMacroFinalNet(C=96, num_layers=24, keep 0.5, no auxiliary head),"
        " general_child.py _fixed_layer (whole channels)",
    ),
}
MODELS: dict[str, object] = {**DARTS_MODELS, **OWN_MODELS}

_OWN_PROVENANCE = {
    "enas_micro_cifar10": {
        **Provenance(
            paper=_PAPER,
            paper_id="arXiv:1802.03268",
            origin=(
                "github.com/melodyguan/enas scripts/cifar10_micro_final.sh @ 4bcfd73 (fixed_arc,"
                " flags) in src/cifar10/micro_child.py's fixed-arc network"
            ),
            origin_url="https://github.com/melodyguan/enas",
            table=(
                "ENAS + cutout 2.89 %, 4.6M (DARTS Table 1 restating ENAS; ENAS's own table not"
                " read): the official count of this network is 3.89M (4.39M with the auxiliary"
                " head); 18 + 2 layers of 36 filters give 4.59M"
            ),
            notes=(
                "The official fixed-arc network, TensorFlow 'SAME' padding and pools kept; He"
                " initialisation not copied (PyTorch defaults). As in the official training the"
                " auxiliary head is outside the optimised variables (micro_child.py L721-729)."
            ),
        ).as_dict(),
        "network": OWN_MODELS["enas_micro_cifar10"][1],
        "published_size": "4.6M (DARTS Table 1, for ENAS + cutout; not this count, see table)",
    },
    "enas_macro_cifar10": {
        **Provenance(
            paper=_PAPER,
            paper_id="arXiv:1802.03268",
            origin=(
                "github.com/melodyguan/enas scripts/cifar10_macro_final.sh @ 4bcfd73 (fixed_arc,"
                " flags) in src/cifar10/general_child.py's fixed-arc network"
            ),
            origin_url="https://github.com/melodyguan/enas",
            table=(
                "ENAS's macro-space table was not read (research notes: not found); the official"
                " construction of the released arc has 42,559,392 parameters"
            ),
            notes=(
                "As the official fixed-arc code builds it: ops 1 and 3 (sep convs in search) are"
                " full convolutions there and here; it has no pool branch (the released arc has"
                " no pool), built here as in search. He initialisation not copied."
            ),
        ).as_dict(),
        "network": OWN_MODELS["enas_macro_cifar10"][1],
        "published_size": "not read (ENAS Table 2 macro rows: not found in any source read)",
    },
}

# timm's register_model reads this module attribute to attach each model's pretrained cfg.
default_cfgs = {
    **register(CELLS, DARTS_MODELS),
    **generate_default_cfgs(
        {
            name: {
                "num_classes": 10,
                "input_size": (3, 32, 32),
                "fixed_input_size": name == "enas_micro_cifar10",  # its aux head: 8x8 maps
                "mean": CIFAR_MEAN,
                "std": CIFAR_STD,
                "crop_pct": 1.0,
                "first_conv": "stem.0",
                "classifier": "classifier",
                **provenance_cfg(prov, f"ENAS's own network ({prov['origin']})"),
            }
            for name, prov in _OWN_PROVENANCE.items()
        }
    ),
}
PROVENANCE: dict[str, dict[str, str]] = {
    **{name: provenance(name) for name in DARTS_MODELS},
    **_OWN_PROVENANCE,
}


@register_model
def enas_darts_space_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """ENAS's released final micro cell (fixed_arc) as a genotype, DARTS CIFAR-10 network."""
    return create("enas_darts_space_cifar10", pretrained, kwargs)


@register_model
def enas_nsganet_darts_space_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """ENAS as NSGA-Net's repository encodes it, DARTS CIFAR-10 network."""
    return create("enas_nsganet_darts_space_cifar10", pretrained, kwargs)


@register_model
def enas_micro_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """ENAS's released micro arc in ENAS's own final network (cifar10_micro_final.sh)."""
    name = "enas_micro_cifar10"
    return create_with_cfg(OWN_MODELS[name][0], name, pretrained, PROVENANCE[name], **kwargs)


@register_model
def enas_macro_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """ENAS's released macro arc in ENAS's own final network (cifar10_macro_final.sh)."""
    name = "enas_macro_cifar10"
    return create_with_cfg(OWN_MODELS[name][0], name, pretrained, PROVENANCE[name], **kwargs)
