"""The FairNAS search space as data (Chu, Zhang & Xu, FairNAS: Rethinking Evaluation Fairness of
Weight Sharing NAS, ICCV 2021), derived from the released models: github.com/xiaomi-automl/
FairNAS @ fa0d393, ``models/FairNAS_{A,B,C}.py`` (the paper text was not read).

A MobileNetV2 chain: 3x3 stride-2 conv to 32 channels, a depthwise-separable conv to 16, then
19 searchable inverted-residual layers, a 1x1 conv to 1280, global pooling, dropout 0.2 and a
linear classifier. The widths and strides of the 19 layers are fixed (``LAYERS``: the same in
all three released models); each layer chooses its expansion ratio in {3, 6} and depthwise
kernel in {3, 5, 7}, so there are 6 choices per layer and 6**19 networks.

The repository publishes no integer encoding, only per-layer ``mb_config`` rows
``[expansion, out_channels, kernel, stride]``. ``CHOICES`` fixes our own order (expansion
first, then kernel); ``FairNasArch.from_mb_config`` reads the official rows and checks them
against the space.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from common.errors import NasReproError

# (expansion, kernel) of each choice id. The order is ours: the repository defines none.
CHOICES: tuple[tuple[int, int], ...] = ((3, 3), (3, 5), (3, 7), (6, 3), (6, 5), (6, 7))

# (out_channels, stride) of the 19 searchable layers: columns 2 and 4 of mb_config, identical
# in models/FairNAS_A.py, FairNAS_B.py and FairNAS_C.py.
LAYERS: tuple[tuple[int, int], ...] = (
    ((32, 2), (32, 1))
    + ((40, 2),) + ((40, 1),) * 3
    + ((80, 2),) + ((80, 1),) * 3
    + ((96, 1),) * 4
    + ((192, 2),) + ((192, 1),) * 3
    + ((320, 1),)
)  # fmt: skip
STEM_WIDTH = 32  # FairNAS_A.py: stem(3, 32, 2)
SEPARABLE_WIDTH = 16  # separable_conv(32, 16); input_channel = 16 for the first layer
HEAD_WIDTH = 1280  # last_channel = 1280 (conv_before_pooling)
DROP_RATE = 0.2  # classifier = Sequential(Dropout(0.2), Linear(1280, n_class))
NUM_LAYERS = len(LAYERS)  # 19
NUM_ARCHS = len(CHOICES) ** NUM_LAYERS


@dataclass(frozen=True)
class LayerSpec:
    """The fixed shape of one searchable layer: input and output widths and stride."""

    index: int
    in_chs: int
    out_chs: int
    stride: int


def _layer_specs() -> tuple[LayerSpec, ...]:
    ins = (SEPARABLE_WIDTH,) + tuple(out for out, _ in LAYERS[:-1])
    return tuple(
        LayerSpec(i, in_chs, out, stride)
        for i, (in_chs, (out, stride)) in enumerate(zip(ins, LAYERS))
    )


LAYER_SPECS: tuple[LayerSpec, ...] = _layer_specs()


@dataclass(frozen=True, order=True)
class FairNasArch:
    """One network of the space: the choice id (index into ``CHOICES``) of each of the 19
    layers, in order."""

    choices: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if len(self.choices) != NUM_LAYERS:
            raise NasReproError(
                f"a FairNAS architecture has {NUM_LAYERS} choice ids, got {len(self.choices)}"
            )
        for i, c in enumerate(self.choices):
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < len(CHOICES):
                raise NasReproError(
                    f"FairNAS layer {i}: choice id {c!r} is not one of 0..{len(CHOICES) - 1}"
                )

    @classmethod
    def from_mb_config(cls, rows: Sequence[Sequence[int]]) -> FairNasArch:
        """The architecture of an official ``mb_config``: 19 rows ``[expansion, out_channels,
        kernel, stride]``; widths and strides must be the space's."""
        if len(rows) != NUM_LAYERS:
            raise NasReproError(f"mb_config needs {NUM_LAYERS} rows, got {len(rows)}")
        choices = []
        for i, (row, fixed) in enumerate(zip(rows, LAYERS)):
            expansion, out_chs, kernel, stride = row
            if (out_chs, stride) != fixed:
                raise NasReproError(
                    f"mb_config row {i}: (out_channels, stride) = {(out_chs, stride)}, but the"
                    f" FairNAS space fixes {fixed}"
                )
            if (expansion, kernel) not in CHOICES:
                raise NasReproError(
                    f"mb_config row {i}: (expansion, kernel) = {(expansion, kernel)} is not a"
                    f" FairNAS choice; valid: {CHOICES}"
                )
            choices.append(CHOICES.index((expansion, kernel)))
        return cls(tuple(choices))

    @classmethod
    def sample(cls, rng: random.Random) -> FairNasArch:
        """A uniformly random architecture."""
        return cls(tuple(rng.randrange(len(CHOICES)) for _ in range(NUM_LAYERS)))

    def mb_config(self) -> list[list[int]]:
        """The official row form, ``[expansion, out_channels, kernel, stride]`` per layer."""
        return [[CHOICES[c][0], out, CHOICES[c][1], s] for c, (out, s) in zip(self.choices, LAYERS)]

    def __str__(self) -> str:
        return str(self.choices)
