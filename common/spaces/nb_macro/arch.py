"""NAS-Bench-Macro architectures as pure data (Su et al., "Prioritized Architecture Sampling
with Monte-Carlo Tree Search", CVPR 2021, Sect. 5.1; official code xiusu/NAS-Bench-Macro
@61a2bfc, train/model.py and train/utils.py).

A network is a chain of 8 searchable layers in three stages of 2, 3 and 3 layers; the first
layer of each stage has stride 2 and doubles the channels. Each layer is one of three ops,
written as one digit, so an architecture is a code string such as ``"22212220"``:

- ``0`` ``id``: identity; in a stage's first layer the official ``Identity`` is a 1x1 conv
  with stride 2 + BN (the shape changes there), elsewhere it is a plain identity;
- ``1`` ``ir_3x3_t3``: MobileNetV2 inverted residual block, expansion 3, kernel 3;
- ``2`` ``ir_5x5_t6``: the same with expansion 6, kernel 5.

3**8 = 6,561 codes; the benchmark trained 3,969 distinct networks (``canonical``).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

from common.errors import NasReproError

# op names and order as candidate_OP in train/model.py (xiusu/NAS-Bench-Macro@61a2bfc)
OPS: tuple[str, ...] = ("id", "ir_3x3_t3", "ir_5x5_t6")
STAGES: tuple[int, ...] = (2, 3, 3)  # Network(stages=[2, 3, 3]), train/model.py @61a2bfc
NUM_LAYERS = sum(STAGES)  # 8
NUM_ARCHS = len(OPS) ** NUM_LAYERS  # 6,561
# the first layer of each stage: stride 2, channels x2 (Network.__init__, train/model.py)
STAGE_FIRST: tuple[int, ...] = tuple(sum(STAGES[:s]) for s in range(len(STAGES)))  # (0, 2, 5)


def _stage_slices() -> tuple[slice, ...]:
    starts = (*STAGE_FIRST, NUM_LAYERS)
    return tuple(slice(a, b) for a, b in itertools.pairwise(starts))


@dataclass(frozen=True, order=True)
class MacroArch:
    """One NAS-Bench-Macro architecture: the op index (0, 1, 2) of each of the 8 layers."""

    choices: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.choices) != NUM_LAYERS:
            raise NasReproError(
                f"a NAS-Bench-Macro arch needs {NUM_LAYERS} layers, got {len(self.choices)}"
            )
        for layer, c in enumerate(self.choices):
            if type(c) is not int or not 0 <= c < len(OPS):
                raise NasReproError(
                    f"NAS-Bench-Macro layer {layer} has choice {c!r}; valid: 0 (id),"
                    " 1 (ir_3x3_t3), 2 (ir_5x5_t6)"
                )

    @classmethod
    def parse(cls, text: str) -> MacroArch:
        """Parse a code string such as ``"22212220"`` (the benchmark file's keys)."""
        s = text.strip()
        if len(s) != NUM_LAYERS or any(ch not in "012" for ch in s):
            raise NasReproError(
                f"malformed NAS-Bench-Macro code {text!r}: expected {NUM_LAYERS} digits, each"
                " 0 (id), 1 (ir_3x3_t3) or 2 (ir_5x5_t6), e.g. '22212220'"
            )
        return cls(tuple(int(ch) for ch in s))

    def __str__(self) -> str:
        return "".join(map(str, self.choices))

    @property
    def ops(self) -> tuple[str, ...]:
        return tuple(OPS[c] for c in self.choices)

    @classmethod
    def from_ops(cls, ops: tuple[str, ...] | list[str]) -> MacroArch:
        unknown = [op for op in ops if op not in OPS]
        if unknown:
            raise NasReproError(f"unknown NAS-Bench-Macro ops {unknown}; valid: {', '.join(OPS)}")
        return cls(tuple(OPS.index(op) for op in ops))

    @property
    def index(self) -> int:
        """Position in the lexicographic enumeration (``all_archs``): the code read in base 3."""
        index = 0
        for c in self.choices:
            index = index * len(OPS) + c
        return index

    def canonical(self) -> MacroArch:
        """The representative of every code that builds the same network.

        In a stage, a layer after the first keeps shape (stride 1, same channels), so an
        identity there computes nothing and the stage's function is the sequence of its
        non-identity blocks: identities can move to the stage's end. The first layer of a
        stage changes shape, and its ``id`` is a strided 1x1 conv + BN, a layer of its own, so
        it stays. This is the official ``get_real_arch`` (train/utils.py @61a2bfc), which the
        benchmark used to train one network per class and copy its result to every member.
        """
        out: list[int] = []
        for part in _stage_slices():
            first, *rest = self.choices[part]
            blocks = [c for c in rest if c != 0]
            out += [first, *blocks, *[0] * (len(rest) - len(blocks))]
        return MacroArch(tuple(out))

    def is_canonical(self) -> bool:
        return self.canonical() == self

    def mutate(self, rng: random.Random) -> MacroArch:
        """One layer, drawn uniformly, gets another op drawn uniformly (the one-edge mutation of
        REA on NB-201; the benchmark defines none). The mutant is always another network: a
        change of one layer changes its stage's first op or its sequence of blocks."""
        layer = rng.randrange(NUM_LAYERS)
        choices = list(self.choices)
        choices[layer] = rng.choice([c for c in range(len(OPS)) if c != choices[layer]])
        return MacroArch(tuple(choices))

    @classmethod
    def sample(cls, rng: random.Random) -> MacroArch:
        """Uniform over the 6,561 codes (so networks with identities placed several ways are
        more likely than canonical-only sampling would make them, as in SPOS's uniform
        sampling of each layer)."""
        return cls(tuple(rng.randrange(len(OPS)) for _ in range(NUM_LAYERS)))


def all_archs() -> Iterator[MacroArch]:
    """All 6,561 codes in lexicographic order (``MacroArch.index`` order)."""
    for choices in itertools.product(range(len(OPS)), repeat=NUM_LAYERS):
        yield MacroArch(choices)


def distinct_archs() -> Iterator[MacroArch]:
    """The canonical codes, one per distinct network (3,969), in lexicographic order."""
    return (a for a in all_archs() if a.is_canonical())
