"""The FairNAS MobileNetV2 supernet skeleton (Chu, Zhang & Xu, ICCV 2021): the network of
``common.spaces.fairnas_mobilenet`` (the released models, xiaomi-automl/FairNAS @fa0d393
``models/FairNAS_{A,B,C}.py``) with all six inverted-residual choices on each of its 19
searchable layers, each layer one edge of a mixer (``common.supernets.mixers``), as ``macro.py``
does for NAS-Bench-Macro.

The repository releases no supernet: stem, separable conv, head and the blocks are built by the
space's own code (``make_block``), so a path's parameters have the discrete network's names with
the op inserted (``layers.<i>.<op>.<...>`` for ``blocks.<i>.<...>``), initialised as the official
``_initialize_weights``. ``affine=False`` (the default, SPOS's supernet choice,
``Supernet/blocks.py``; FairNAS publishes none) drops the batch norms' affine parameters. The
mixer is built last, so it never shifts the weights' initialisation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from timm.layers import ConvNormAct
from timm.models._efficientnet_blocks import DepthwiseSeparableConv
from torch import nn

from common.spaces.fairnas_mobilenet import (
    CHOICES,
    LAYER_SPECS,
    NUM_LAYERS,
    FairNasArch,
    FairNasNet,
    make_block,
)
from common.spaces.fairnas_mobilenet.space import (
    DROP_RATE,
    HEAD_WIDTH,
    SEPARABLE_WIDTH,
    STEM_WIDTH,
)
from common.supernets.mixers import EdgeMixer, SinglePathMixer, mix_chain
from common.supernets.spos_shufflenet import drop_bn_affine

OPS: tuple[str, ...] = tuple(f"e{e}k{k}" for e, k in CHOICES)  # choice id k is OPS[k]
CELL_TYPES = ("chain",)


class FairNasSupernet(nn.Module):
    """The FairNAS supernet: ``layers[i][op]`` is choice ``op`` (``e<expansion>k<kernel>``) of
    searchable layer ``i``."""

    def __init__(
        self,
        num_classes: int = 1000,
        mixer: Callable[..., EdgeMixer] = SinglePathMixer,
        in_channels: int = 3,
        affine: bool = False,
        drop_rate: float = DROP_RATE,
    ) -> None:
        super().__init__()
        self.stem = ConvNormAct(in_channels, STEM_WIDTH, 3, stride=2, act_layer=nn.ReLU6)
        self.separable_conv = DepthwiseSeparableConv(
            STEM_WIDTH, SEPARABLE_WIDTH, dw_kernel_size=3, noskip=True, act_layer=nn.ReLU6
        )
        self.layers = nn.ModuleList(
            nn.ModuleDict({op: make_block(k, spec) for k, op in enumerate(OPS)})
            for spec in LAYER_SPECS
        )
        self.conv_head = ConvNormAct(LAYER_SPECS[-1].out_chs, HEAD_WIDTH, 1, act_layer=nn.ReLU6)
        self.dropout = nn.Dropout(drop_rate)
        self.classifier = nn.Linear(HEAD_WIDTH, num_classes)
        FairNasNet._initialize_weights(self)  # type: ignore[arg-type]  (the released models')
        if not affine:
            drop_bn_affine(self)
        # last, so that its parameters do not shift the weights' random initialisation
        self.mixer = mixer(ops=OPS, num_edges=NUM_LAYERS, cell_types=CELL_TYPES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.separable_conv(self.stem(x))
        x = mix_chain(self.mixer, self.layers, x, "FairNAS supernet layer", "block")
        x = self.dropout(self.conv_head(x).mean((2, 3)))
        return self.classifier(x)


def path_arch(path: Sequence[str]) -> FairNasArch:
    """The architecture of a path (one op name per layer)."""
    return FairNasArch(tuple(OPS.index(op) for op in path))


def arch_path(arch: FairNasArch) -> tuple[str, ...]:
    """The path of an architecture (``PathSpace``'s ``from_arch``)."""
    return tuple(OPS[c] for c in arch.choices)


def arch_choice(arch: FairNasArch) -> dict[str, tuple[str, ...]]:
    """``arch`` as a ``SinglePathMixer.set_choice`` argument."""
    return {"chain": arch_path(arch)}
