"""NAS-RL's convolutional search space as pure data (Zoph & Le, ICLR 2017, Sect. 3.1, 3.3
and 4.1).

A network is a stack of ``N`` convolutional layers. For each layer the controller picks a
filter height, a filter width and a number of filters (and, in the paper's second CIFAR-10
experiment, a stride height and width), then its anchor point picks which earlier layers feed
it. An architecture is therefore, per layer, ``(height, width, filters, stride_h, stride_w)``
and the tuple of earlier layers it reads (empty: it reads the image).

Value sets, Sect. 4.1 ("Search space"): heights and widths in [1, 3, 5, 7], filters in
[24, 36, 48, 64], strides fixed to 1 or predicted in [1, 2, 3]. These come from verbatim
quotes of the paper in several third-party notes (the paper's own experiments section was
not readable here): secondary. A reduced run keeps the kernel sets and scales the filter set
(``filters``) to a CPU budget.

``decode`` reads a controller row (``LstmPolicy`` with ``layer_decisions`` per layer, then
the layer's skip bits, the order ``common.controllers.lstm_policy`` documents).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from common.errors import NasReproError

HEIGHTS: tuple[int, ...] = (1, 3, 5, 7)  # Sect. 4.1: filter height in [1, 3, 5, 7]
WIDTHS: tuple[int, ...] = (1, 3, 5, 7)  # Sect. 4.1: filter width in [1, 3, 5, 7]
FILTERS: tuple[int, ...] = (24, 36, 48, 64)  # Sect. 4.1: number of filters in [24, 36, 48, 64]
STRIDES: tuple[int, ...] = (1, 2, 3)  # Sect. 4.1: strides predicted in [1, 2, 3] (2nd set)


_LAYER_TEXT = re.compile(r"(\d+)x(\d+)/(\d+)(?:/s(\d+)x(\d+))?(?:<-(\d+(?:,\d+)*))?")


@dataclass(frozen=True)
class Layer:
    """One convolution: kernel ``height x width``, ``filters`` outputs, stride."""

    height: int
    width: int
    filters: int
    stride_h: int = 1
    stride_w: int = 1


@dataclass(frozen=True)
class NasRlArch:
    """Layers and, per layer, the sorted earlier layers it reads (``()``: the image)."""

    layers: tuple[Layer, ...]
    inputs: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if not self.layers or len(self.inputs) != len(self.layers):
            raise NasReproError(
                f"a NAS-RL arch needs >= 1 layer and one input list per layer, got"
                f" {len(self.layers)} layers and {len(self.inputs)} input lists"
            )
        for i, (layer, reads) in enumerate(zip(self.layers, self.inputs, strict=True)):
            values = (layer.height, layer.width, layer.filters, layer.stride_h, layer.stride_w)
            if any(type(v) is not int or v < 1 for v in values):
                raise NasReproError(f"NAS-RL layer {i} has a non-positive value: {layer}")
            if list(reads) != sorted(set(reads)) or any(not 0 <= j < i for j in reads):
                raise NasReproError(
                    f"NAS-RL layer {i} reads {list(reads)}: inputs must be distinct earlier"
                    f" layers 0..{i - 1}, sorted"
                )

    @property
    def depth(self) -> int:
        return len(self.layers)

    def unused(self) -> tuple[int, ...]:
        """Layers no later layer reads: their outputs are concatenated into the classifier
        (Sect. 3.3, second rule). The last layer is always one of them."""
        read = {j for reads in self.inputs for j in reads}
        return tuple(i for i in range(self.depth) if i not in read)

    def __str__(self) -> str:
        """Canonical text, one ``HxW/F[/sHxW][<-i,j]`` per layer, ``|``-separated: equal
        architectures, equal strings (the cache key of the child trainer)."""
        parts = []
        for layer, reads in zip(self.layers, self.inputs, strict=True):
            text = f"{layer.height}x{layer.width}/{layer.filters}"
            if (layer.stride_h, layer.stride_w) != (1, 1):
                text += f"/s{layer.stride_h}x{layer.stride_w}"
            if reads:
                text += "<-" + ",".join(map(str, reads))
            parts.append(text)
        return "|".join(parts)

    def to_spec(self) -> dict:
        """Plain data for a child job (picklable, JSON-able)."""
        return {
            "layers": [
                [la.height, la.width, la.filters, la.stride_h, la.stride_w] for la in self.layers
            ],
            "inputs": [list(r) for r in self.inputs],
        }

    @classmethod
    def parse(cls, text: str) -> NasRlArch:
        """The architecture of its canonical text (``str``), e.g. ``3x3/24|5x1/36<-0``."""
        layers, inputs = [], []
        for part in str(text).split("|"):
            m = _LAYER_TEXT.fullmatch(part.strip())
            if m is None:
                raise NasReproError(
                    f"malformed NAS-RL layer {part!r} in {text!r}: HxW/F[/sHxW][<-i,j], e.g."
                    " 3x3/24|5x1/36<-0"
                )
            h, w, f, sh, sw, reads = m.groups()
            layers.append(Layer(int(h), int(w), int(f), int(sh or 1), int(sw or 1)))
            inputs.append(tuple(int(j) for j in reads.split(",")) if reads else ())
        return cls(tuple(layers), tuple(inputs))

    @classmethod
    def from_spec(cls, spec: dict) -> NasRlArch:
        try:
            layers = tuple(Layer(*map(int, v)) for v in spec["layers"])
            inputs = tuple(tuple(int(j) for j in r) for r in spec["inputs"])
        except (KeyError, TypeError, ValueError) as e:
            raise NasReproError(f"malformed NAS-RL arch spec {spec!r}: {e}") from e
        return cls(layers, inputs)


@dataclass(frozen=True)
class NasRlSpace:
    """The value sets the controller chooses from, and how a row decodes."""

    heights: tuple[int, ...] = HEIGHTS
    widths: tuple[int, ...] = WIDTHS
    filters: tuple[int, ...] = FILTERS
    strides: tuple[int, ...] | None = None  # None: fixed stride 1 (the paper's first set)

    @classmethod
    def make(
        cls,
        heights: Sequence[int] = HEIGHTS,
        widths: Sequence[int] = WIDTHS,
        filters: Sequence[int] = FILTERS,
        strides: Sequence[int] | None = None,
    ) -> NasRlSpace:
        return cls(
            tuple(heights), tuple(widths), tuple(filters), tuple(strides) if strides else None
        )

    @property
    def layer_choices(self) -> list[int]:
        """Choice counts of one layer's decisions, in controller order: height, width,
        [stride height, stride width,] filters (the order of the paper's Fig. 4)."""
        k = [len(self.heights), len(self.widths)]
        if self.strides:
            k += [len(self.strides)] * 2
        return k + [len(self.filters)]

    def decode(self, row: Sequence[int], depth: int) -> NasRlArch:
        """The architecture of one controller row for a ``depth``-layer network."""
        row = [int(v) for v in row]
        per = len(self.layer_choices)
        expected = depth * per + depth * (depth - 1) // 2
        if len(row) != expected:
            raise NasReproError(f"a {depth}-layer row has {expected} decisions, got {len(row)}")
        layers, inputs, col = [], [], 0
        for i in range(depth):
            d = row[col : col + per]
            col += per
            strides = (self.strides[d[2]], self.strides[d[3]]) if self.strides else (1, 1)
            layers.append(
                Layer(self.heights[d[0]], self.widths[d[1]], self.filters[d[-1]], *strides)
            )
            bits = row[col : col + i]
            col += i
            inputs.append(tuple(j for j, b in enumerate(bits) if b))
        return NasRlArch(tuple(layers), tuple(inputs))
