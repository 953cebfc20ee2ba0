"""The SPOS ShuffleNetV2 supernet skeleton (Guo et al., ECCV 2020; official code
megvii-model/SinglePathOneShot @36eed6c, ``src/Supernet/network.py``): the evaluation network of
``common.spaces.spos_shufflenet`` with all four choice blocks on each of its 20 positions, each
position one edge of a mixer (``common.supernets.mixers``), as ``macro.py`` does for
NAS-Bench-Macro.

Stem (``first_conv``), head (``conv_last``, mean pooling, dropout 0.1, ``classifier``) and the
blocks are built by the space's own code (``make_block``), so a path's parameters have the
discrete network's names with the op inserted: ``layers.<i>.<op>.<...>`` for
``features.<i>.<...>``. The official supernet's batch norms have no affine parameters
(``Supernet/network.py`` and ``blocks.py``: ``BatchNorm2d(..., affine=False)``): ``affine=False``
(the default) drops them after the weights are initialised as the official
``_initialize_weights`` does. Ops are built in position order, then op order, and the mixer
last, so the mixer never shifts the weights' initialisation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from common.spaces.spos_shufflenet import BLOCKS, CHOICES, NUM_BLOCKS, SposArch, make_block
from common.spaces.spos_shufflenet.model import ShuffleNetOneShot
from common.spaces.spos_shufflenet.space import DROP_RATE, HEAD_WIDTH, STEM_WIDTH
from common.supernets.mixers import EdgeMixer, SinglePathMixer, mix_chain

OPS: tuple[str, ...] = CHOICES  # op names of each position: choice id k is OPS[k]
CELL_TYPES = ("chain",)


def drop_bn_affine(module: nn.Module) -> nn.Module:
    """Turn every batch norm of ``module`` into one without affine parameters, in place (its
    subclasses too, e.g. timm's ``BatchNormAct2d``, whose activation stays)."""
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            m.affine = False
            m.register_parameter("weight", None)
            m.register_parameter("bias", None)
    return module


class SposSupernet(nn.Module):
    """The SPOS supernet: ``layers[i][op]`` is choice ``op`` of block position ``i``."""

    def __init__(
        self,
        num_classes: int = 1000,
        mixer: Callable[..., EdgeMixer] = SinglePathMixer,
        in_channels: int = 3,
        affine: bool = False,
        drop_rate: float = DROP_RATE,
    ) -> None:
        super().__init__()
        self.first_conv = nn.Sequential(
            nn.Conv2d(in_channels, STEM_WIDTH, 3, 2, 1, bias=False),
            nn.BatchNorm2d(STEM_WIDTH),
            nn.ReLU(inplace=True),
        )
        self.layers = nn.ModuleList(
            nn.ModuleDict({op: make_block(k, spec) for k, op in enumerate(OPS)}) for spec in BLOCKS
        )
        self.conv_last = nn.Sequential(
            nn.Conv2d(BLOCKS[-1].out_chs, HEAD_WIDTH, 1, 1, 0, bias=False),
            nn.BatchNorm2d(HEAD_WIDTH),
            nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(drop_rate)
        self.classifier = nn.Sequential(nn.Linear(HEAD_WIDTH, num_classes, bias=False))
        # Supernet/network.py _initialize_weights is the evaluation network's (by module name)
        ShuffleNetOneShot._initialize_weights(self)  # type: ignore[arg-type]
        if not affine:
            drop_bn_affine(self)
        # last, so that its parameters do not shift the weights' random initialisation
        self.mixer = mixer(ops=OPS, num_edges=NUM_BLOCKS, cell_types=CELL_TYPES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = mix_chain(
            self.mixer, self.layers, self.first_conv(x), "SPOS supernet position", "block"
        )
        x = self.dropout(self.conv_last(x).mean((2, 3)))
        return self.classifier(x)


def path_arch(path: Sequence[str]) -> SposArch:
    """The architecture of a path (one op name per position)."""
    return SposArch(tuple(OPS.index(op) for op in path))


def arch_path(arch: SposArch) -> tuple[str, ...]:
    """The path of an architecture (``PathSpace``'s ``from_arch``)."""
    return tuple(OPS[c] for c in arch.choices)


def arch_choice(arch: SposArch) -> dict[str, tuple[str, ...]]:
    """``arch`` as a ``SinglePathMixer.set_choice`` argument."""
    return {"chain": arch_path(arch)}
