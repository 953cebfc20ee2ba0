"""The NASNet cell search space as pure data (Zoph, Vasudevan, Shlens & Le, CVPR 2018, Sect. 3),
and PNAS's restriction of it (Liu et al., ECCV 2018, Sect. 3.1).

A cell has B blocks. Block ``b`` picks two hidden states, applies one operation to each and
combines the two results. The hidden states a block may read are numbered as TF-slim
``nasnet_utils.py`` numbers them (``hiddenstate_indices``), so the published cells below are
transcribed from the official code without renumbering:

    0 = h_{c-1}, the previous cell's output (after the cell's 1x1 conv)
    1 = h_{c-2}, the output of the cell before it (reduced to match h_{c-1})
    2 + j = the output of block j of this cell (j < b)

(DARTS and PNASNet.pytorch number the two cell inputs the other way round.)

The cell's output concatenates hidden states along channels. The NASNet paper's rule (Sect.
3) is "all unused hidden states" (``concat=None`` with the NASNet space). The released cells
are not built by that rule: TF-slim gives each cell an explicit ``used_hiddenstates`` list,
NASNet-A's normal cell also outputs h_{c-2} (which it reads), its reduction cell outputs block
1 (which block 3 reads), and PNASNet-5 outputs all five blocks although block 3 reads block 2.
A cell therefore carries an optional explicit ``concat``; PNAS's space defaults to "all
blocks", the rule PNASNet-5's released cell follows (the PNAS paper text was not read here).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from common.errors import NasReproError, choices_error

# NASNet Sect. 3: the 13 operations the controller picks from, in the paper's list order.
NASNET_OPS: tuple[str, ...] = (
    "identity",
    "conv_1x3_3x1",
    "conv_1x7_7x1",
    "dil_conv_3x3",
    "avg_pool_3x3",
    "max_pool_3x3",
    "max_pool_5x5",
    "max_pool_7x7",
    "conv_1x1",
    "conv_3x3",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
)
# PNAS Sect. 3.1 (secondary: as the PNAS text is restated, the paper itself was not read): the
# 8 operations kept after the NASNet ones PNAS's authors found rarely chosen were dropped.
PNAS_OPS: tuple[str, ...] = (
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
    "conv_1x7_7x1",
    "identity",
    "avg_pool_3x3",
    "max_pool_3x3",
    "dil_conv_3x3",
)
COMBINES: tuple[str, ...] = ("add", "concat")  # NASNet Sect. 3 step 5
NUM_INPUTS = 2  # h_{c-1}, h_{c-2}


@dataclass(frozen=True)
class Space:
    """A cell space: its operations, combinations, and how a cell's output is formed by
    default (``"unused"`` hidden states, or ``"all_blocks"``)."""

    name: str
    ops: tuple[str, ...]
    combines: tuple[str, ...]
    concat_rule: str


NASNET_SPACE = Space("nasnet", NASNET_OPS, COMBINES, "unused")
PNAS_SPACE = Space("pnas", PNAS_OPS, ("add",), "all_blocks")
SPACES: dict[str, Space] = {s.name: s for s in (NASNET_SPACE, PNAS_SPACE)}


@dataclass(frozen=True, order=True)
class Block:
    """``combine(op_a(state[in_a]), op_b(state[in_b]))``."""

    in_a: int
    op_a: str
    in_b: int
    op_b: str
    combine: str = "add"

    def canonical(self) -> Block:
        """Both combinations are symmetric in their two arguments (concat up to a channel
        permutation), so the pair with the smaller (input, op) comes first."""
        a, b = sorted([(self.in_a, self.op_a), (self.in_b, self.op_b)])
        return Block(a[0], a[1], b[0], b[1], self.combine)

    def __str__(self) -> str:
        return f"{self.combine}({self.op_a}~{self.in_a},{self.op_b}~{self.in_b})"


@dataclass(frozen=True)
class Cell:
    """B blocks and, optionally, the hidden states the output concatenates."""

    blocks: tuple[Block, ...]
    concat: tuple[int, ...] | None = None
    space: str = field(default="nasnet", compare=False)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def num_blocks(self) -> int:
        return len(self.blocks)

    def validate(self) -> Cell:
        if self.space not in SPACES:
            raise choices_error("cell space", self.space, tuple(SPACES))
        space = SPACES[self.space]
        if not self.blocks:
            raise NasReproError("a cell needs at least one block")
        for b, block in enumerate(self.blocks):
            for inp, op in ((block.in_a, block.op_a), (block.in_b, block.op_b)):
                if not 0 <= inp < NUM_INPUTS + b:
                    raise NasReproError(
                        f"block {b} reads hidden state {inp}; valid: 0..{NUM_INPUTS + b - 1}"
                        " (0 = h_{c-1}, 1 = h_{c-2}, 2+j = block j)"
                    )
                if op not in space.ops:
                    raise choices_error(f"{space.name} op in block {b}", op, space.ops)
            if block.combine not in space.combines:
                raise choices_error(f"{space.name} combination", block.combine, space.combines)
        if self.concat is not None:
            n = NUM_INPUTS + self.num_blocks
            if not self.concat or any(not 0 <= s < n for s in self.concat):
                raise NasReproError(f"cell output {self.concat} must list states in 0..{n - 1}")
        return self

    def used(self) -> set[int]:
        """Hidden states some block reads."""
        return {s for blk in self.blocks for s in (blk.in_a, blk.in_b)}

    def output_states(self) -> tuple[int, ...]:
        """The hidden states the output concatenates, in order."""
        if self.concat is not None:
            return self.concat
        n = NUM_INPUTS + self.num_blocks
        if SPACES[self.space].concat_rule == "all_blocks":
            return tuple(range(NUM_INPUTS, n))
        used = self.used()
        return tuple(s for s in range(n) if s not in used)

    def canonical(self) -> Cell:
        """Blocks with their two arguments in canonical order; the output made explicit."""
        return Cell(
            tuple(b.canonical() for b in self.blocks), self.output_states(), space=self.space
        )

    def key(self) -> str:
        """A string equal for two cells exactly when their canonical forms are equal."""
        c = self.canonical()
        return f"{c.space}:" + ";".join(map(str, c.blocks)) + f"->{list(c.concat or ())}"

    def hash(self) -> str:
        return hashlib.sha256(self.key().encode()).hexdigest()[:16]

    def __str__(self) -> str:
        return " ".join(map(str, self.blocks)) + f" -> {list(self.output_states())}"

    def tokens(self) -> list[tuple[int, int, str, str]]:
        """PNAS Sect. 3.3's encoding, per block (I1, I2, O1, O2)."""
        return [(b.in_a, b.in_b, b.op_a, b.op_b) for b in self.blocks]


def blocks_at(b: int, space: Space) -> Iterator[Block]:
    """Every block that can be block ``b`` (0-based) of a cell, one per unordered pair of
    (input, op) choices: (|I_b| |O|) (|I_b| |O| + 1) / 2 per combination."""
    choices = [(i, op) for i in range(NUM_INPUTS + b) for op in space.ops]
    for combine in space.combines:
        for x in range(len(choices)):
            for y in range(x, len(choices)):
                (ia, oa), (ib, ob) = choices[x], choices[y]
                yield Block(ia, oa, ib, ob, combine)
