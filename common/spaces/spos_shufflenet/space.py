"""The SPOS block search space as data (Guo et al., Single Path One-Shot NAS with Uniform
Sampling, ECCV 2020, Sect. 4; official code github.com/megvii-model/SinglePathOneShot @ 36eed6c,
``src/Evaluation/template/network.py``, which this module follows).

A ShuffleNetV2-like chain: a 3x3 stride-2 stem, 20 choice blocks in four stages of 4, 4, 8 and
4 blocks, a 1x1 conv to 1024 channels, global pooling and a linear classifier. Every choice
block is one of four ShuffleNetV2 units (``CHOICES``), so the space holds 4**20 networks. An
architecture is the tuple of 20 choice ids, e.g. the README's published
``(2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3)``.

Only the block search is modelled: the evaluation template's channel scales are all 1.0
(``channels_scales = (1.0,) * 20`` in ``template/train.py``), so each block's middle width is
half its output width.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from common.errors import NasReproError

# Choice ids as the official code decodes them (template/network.py: 0 Shuffle3x3,
# 1 Shuffle5x5, 2 Shuffle7x7, 3 Xception).
CHOICES: tuple[str, ...] = ("shuffle3x3", "shuffle5x5", "shuffle7x7", "xception")
KERNELS: tuple[int, ...] = (3, 5, 7, 3)  # depthwise kernel of each choice (Xception: three 3x3)

# template/network.py: stage_repeats = [4, 4, 8, 4];
# stage_out_channels = [-1, 16, 64, 160, 320, 640, 1024] (stem, four stages, last conv).
STAGE_REPEATS: tuple[int, ...] = (4, 4, 8, 4)
STAGE_WIDTHS: tuple[int, ...] = (64, 160, 320, 640)
STEM_WIDTH = 16
HEAD_WIDTH = 1024
DROP_RATE = 0.1  # template/network.py: nn.Dropout(0.1) before the classifier
NUM_BLOCKS = sum(STAGE_REPEATS)  # 20
NUM_ARCHS = len(CHOICES) ** NUM_BLOCKS


@dataclass(frozen=True)
class BlockSpec:
    """The fixed shape of one choice position: input and output widths of the whole block and
    its stride (2 for the first block of a stage, else 1). ``mid_chs`` is the width inside the
    main branch: ``out_chs // 2`` (template/network.py: ``base_mid_channels = outp // 2``)."""

    index: int
    stage: int
    in_chs: int
    out_chs: int
    stride: int

    @property
    def mid_chs(self) -> int:
        return self.out_chs // 2


def _block_specs() -> tuple[BlockSpec, ...]:
    specs = []
    in_chs = STEM_WIDTH
    for stage, (repeats, width) in enumerate(zip(STAGE_REPEATS, STAGE_WIDTHS)):
        for i in range(repeats):
            specs.append(BlockSpec(len(specs), stage, in_chs, width, 2 if i == 0 else 1))
            in_chs = width
    return tuple(specs)


BLOCKS: tuple[BlockSpec, ...] = _block_specs()


@dataclass(frozen=True, order=True)
class SposArch:
    """One network of the space: the choice id (index into ``CHOICES``) of each of the 20
    blocks, in order."""

    choices: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if len(self.choices) != NUM_BLOCKS:
            raise NasReproError(
                f"an SPOS architecture has {NUM_BLOCKS} choice ids, got {len(self.choices)}"
            )
        for i, c in enumerate(self.choices):
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < len(CHOICES):
                raise NasReproError(
                    f"SPOS block {i}: choice id {c!r} is not one of 0..{len(CHOICES) - 1}"
                    f" ({', '.join(CHOICES)})"
                )

    @classmethod
    def sample(cls, rng: random.Random) -> SposArch:
        """A uniformly random architecture (the supernet's uniform path sampling)."""
        return cls(tuple(rng.randrange(len(CHOICES)) for _ in range(NUM_BLOCKS)))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(CHOICES[c] for c in self.choices)

    def __str__(self) -> str:
        return str(self.choices)
