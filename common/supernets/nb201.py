"""The NAS-Bench-201 supernet skeleton (Dong & Yang, ICLR 2020, Sect. 2.1; official code
xautodl/models/cell_searchs/search_model_darts.py ``TinyNetworkDarts`` and search_cells.py
``NAS201SearchCell``), one for every weight-sharing method over the space.

The benchmark's skeleton (3x3 conv stem + BN, ``cells_per_stage`` cells, a residual block
C -> 2C with stride 2, cells, a residual block 2C -> 4C, cells, BN-ReLU, global pooling, a
linear classifier) with every op of ``ops`` on each of the 6 edges of every cell; the mixer
(``common.supernets.mixers``) decides what an edge computes. All cells share one
architecture (cell type ``"cell"``).

Options the methods differ in, explicit because they change results: the cells' BN
(``affine``, ``track_running_stats``: DARTS-on-NB-201 uses ``False, True``, TE-NAS and the
benchmark networks ``True, True``), no stem (``use_stem=False``: the input goes straight into
the first cell, TE-NAS's linear-region network) and a cut after ``depth`` layers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn

from common.spaces.nb201.arch import EDGES, OPS, Nb201Arch
from common.spaces.nb201.ops import ResNetBasicBlock, make_op
from common.supernets.mixers import CellMask, EdgeMixer, SoftmaxMixer

CELL_TYPES = ("cell",)


class Nb201SuperCell(nn.Module):
    """All ops on all 6 edges; node i sums the mixer's output of its incoming edges."""

    def __init__(
        self, channels: int, ops: Sequence[str], affine: bool, track_running_stats: bool
    ) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleDict({op: make_op(op, channels, affine, track_running_stats) for op in ops})
            for _ in EDGES
        )

    def forward(self, x: torch.Tensor, mixer: EdgeMixer, state: object) -> torch.Tensor:
        nodes = [x]
        for e, (node, inp) in enumerate(EDGES):  # sorted by target node: inputs are complete
            out = mixer.mix(self.edges[e], nodes[inp], e, state)
            if out is None:
                out = torch.zeros_like(nodes[inp])  # an edge that is off is the `none` op
            if node == len(nodes):
                nodes.append(out)
            else:
                nodes[node] = nodes[node] + out
        return nodes[-1]


class Nb201Supernet(nn.Module):
    """The NB-201 skeleton over ``Nb201SuperCell``s, mixed by ``mixer``."""

    def __init__(
        self,
        num_classes: int,
        mixer: Callable[..., EdgeMixer] = SoftmaxMixer,
        in_channels: int = 3,
        channels: int = 16,
        cells_per_stage: int = 5,
        affine: bool = True,
        track_running_stats: bool = True,
        use_stem: bool = True,
        depth: int | None = None,
        ops: Sequence[str] = OPS,
    ) -> None:
        super().__init__()
        c = channels
        self.stem = (
            nn.Sequential(
                nn.Conv2d(in_channels, c, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c)
            )
            if use_stem
            else nn.Identity()
        )
        layers: list[nn.Module] = []
        for stage in range(3):
            if stage > 0:
                layers.append(ResNetBasicBlock(c, 2 * c, stride=2))
                c *= 2
            layers.extend(
                Nb201SuperCell(c, ops, affine, track_running_stats) for _ in range(cells_per_stage)
            )
        if depth is not None:
            layers = layers[:depth]
            c = channels * 2 ** sum(isinstance(m, ResNetBasicBlock) for m in layers)
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)
        # last, so that its parameters do not shift the weights' random initialisation
        self.mixer = mixer(ops=tuple(ops), num_edges=len(EDGES), cell_types=CELL_TYPES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = self.mixer.state("cell")
        x = self.stem(x)
        for layer in self.cells:
            x = layer(x, self.mixer, state) if isinstance(layer, Nb201SuperCell) else layer(x)
        x = self.lastact(x)
        return self.classifier(self.global_pooling(x).flatten(1))

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture's trainable parameters (the mixer's; none for a mask)."""
        return list(self.mixer.parameters())

    def weight_parameters(self) -> Iterator[nn.Parameter]:
        arch = {id(p) for p in self.arch_parameters()}
        return (p for p in self.parameters() if id(p) not in arch)

    def genotype(self) -> Nb201Arch:
        """The op with the largest alpha on each edge, ``none`` included (as the official
        ``TinyNetworkDarts.genotype``); needs a ``SoftmaxMixer`` over the NB-201 op order."""
        if not isinstance(self.mixer, SoftmaxMixer) or self.mixer.ops != OPS:
            raise TypeError("genotype() needs a SoftmaxMixer over the NB-201 ops in OPS order")
        return Nb201Arch.from_indices(self.mixer.alphas["cell"].argmax(dim=-1).tolist())


def arch_mask(arch: Nb201Arch) -> dict[str, CellMask]:
    """The single-path mask of a cell: its one op on each edge."""
    return {"cell": tuple(frozenset({op}) for op in arch.ops)}
