"""The NAS-Bench-Macro supernet skeleton: the benchmark's chain (Su et al., CVPR 2021;
xiusu/NAS-Bench-Macro @61a2bfc, train/model.py ``Network``) with every candidate op on each
of its 8 searchable layers, for the single-path methods that the space is the ground truth of
(SPOS, Guo et al. ECCV 2020; FairNAS, Chu et al. ICCV 2021) and for a softmax relaxation.

Stem, head and classifier are the discrete network's (``common.spaces.nb_macro.model``); each
searchable layer is one "edge" of the mixer (``common.supernets.mixers``), holding the three
ops built exactly as the benchmark builds them at that position (so the ``id`` of a stage's
first layer is a strided 1x1 conv + BN, a weight of its own). All layers share one
architecture row set (cell type ``"chain"``, 8 edges). Ops are built in layer order, then op
order, and the mixer last, so the mixer never shifts the weights' initialisation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn

from common.spaces.nb_macro.arch import NUM_LAYERS, OPS, MacroArch
from common.spaces.nb_macro.model import (
    HEAD_CHANNELS,
    INIT_CHANNELS,
    layer_shapes,
    make_head,
    make_op,
    make_stem,
)
from common.supernets.mixers import CellMask, EdgeMixer, SinglePathMixer, SoftmaxMixer, mix_chain

CELL_TYPES = ("chain",)


class MacroSupernet(nn.Module):
    """The NAS-Bench-Macro chain with all ``ops`` on each layer, mixed by ``mixer``.

    ``layers[i][op]`` is op ``op`` of searchable layer ``i``; a discrete ``MacroNetwork``'s
    ``features[i]`` has the same parameter names, so weights copy either way. A layer whose
    mixer output is ``None`` (no op active) is an error: a chain has no other path around it.
    """

    def __init__(
        self,
        num_classes: int = 10,
        mixer: Callable[..., EdgeMixer] = SinglePathMixer,
        in_channels: int = 3,
        init_channels: int = INIT_CHANNELS,
        head_channels: int = HEAD_CHANNELS,
        ops: Sequence[str] = OPS,
    ) -> None:
        super().__init__()
        shapes = layer_shapes(init_channels)
        self.stem = make_stem(in_channels, init_channels)
        self.layers = nn.ModuleList(
            nn.ModuleDict({op: make_op(op, *shape) for op in ops}) for shape in shapes
        )
        self.out = make_head(shapes[-1][1], head_channels)
        self.classifier = nn.Linear(head_channels, num_classes)
        # last, so that its parameters do not shift the weights' random initialisation
        self.mixer = mixer(ops=tuple(ops), num_edges=NUM_LAYERS, cell_types=CELL_TYPES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = mix_chain(self.mixer, self.layers, self.stem(x), "NAS-Bench-Macro supernet layer", "op")
        x = self.out(x)
        return self.classifier(x.flatten(1))

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture's trainable parameters (the mixer's; none for a mask)."""
        return list(self.mixer.parameters())

    def weight_parameters(self) -> Iterator[nn.Parameter]:
        arch = {id(p) for p in self.arch_parameters()}
        return (p for p in self.parameters() if id(p) not in arch)

    def genotype(self) -> MacroArch:
        """The op with the largest weight on each layer; needs a ``SoftmaxMixer`` over ``OPS``."""
        if not isinstance(self.mixer, SoftmaxMixer) or self.mixer.ops != OPS:
            raise TypeError("genotype() needs a SoftmaxMixer over the NAS-Bench-Macro OPS")
        return MacroArch(tuple(self.mixer.alphas["chain"].argmax(dim=-1).tolist()))


def arch_mask(arch: MacroArch) -> dict[str, CellMask]:
    """The single-path mask of ``arch``: its one op on each layer."""
    return {"chain": tuple(frozenset({op}) for op in arch.ops)}


def arch_choice(arch: MacroArch) -> dict[str, tuple[str, ...]]:
    """``arch`` as a ``SinglePathMixer.set_choice`` argument."""
    return {"chain": arch.ops}


def mask_arch(mixer: SinglePathMixer) -> MacroArch:
    """The architecture a single-path mixer is set to (e.g. after ``sample``)."""
    return MacroArch.from_ops(mixer.choice()["chain"])
