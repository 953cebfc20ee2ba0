"""NAS-Bench-201 cell topologies as pure data (Dong & Yang, ICLR 2020, Sect. 2.1).

A cell is a DAG on 4 nodes; node ``i`` (1..3) sums one operation applied to every earlier
node. That is 6 edges, each one of 5 operations, so 5**6 = 15,625 cells. The official string
form lists, per node, ``op~j`` for each input ``j``::

    |nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|

Edges are stored in that order: (1,0), (2,0), (2,1), (3,0), (3,1), (3,2).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

from common.errors import NasReproError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_NODES = 4
EDGES: tuple[tuple[int, int], ...] = tuple(
    (node, inp) for node in range(1, NUM_NODES) for inp in range(node)
)
NUM_EDGES = len(EDGES)  # 6
NUM_ARCHS = len(OPS) ** NUM_EDGES  # 15,625


@dataclass(frozen=True, order=True)
class Nb201Arch:
    """One NAS-Bench-201 cell: the operation on each of the 6 edges, in ``EDGES`` order."""

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.ops) != NUM_EDGES:
            raise NasReproError(f"NB-201 cell needs {NUM_EDGES} edge ops, got {len(self.ops)}")
        for edge, op in zip(EDGES, self.ops):
            if op not in OPS:
                raise NasReproError(
                    f"unknown NB-201 op {op!r} on edge {edge[1]}->{edge[0]}; valid: {', '.join(OPS)}"
                )

    @classmethod
    def parse(cls, text: str) -> Nb201Arch:
        """Parse the official arch string; errors name the node and token that is wrong."""
        s = text.strip()
        if not (s.startswith("|") and s.endswith("|")):
            raise NasReproError(
                f"malformed NB-201 arch string {text!r}: must start and end with '|'"
            )
        nodes = s.split("+")
        if len(nodes) != NUM_NODES - 1:
            raise NasReproError(
                f"malformed NB-201 arch string {text!r}: expected {NUM_NODES - 1} nodes separated"
                f" by '+', got {len(nodes)}"
            )
        ops: list[str] = []
        for node, part in enumerate(nodes, start=1):
            tokens = [t for t in part.split("|") if t]
            if len(tokens) != node:
                raise NasReproError(
                    f"malformed NB-201 arch string {text!r}: node {node} must have {node} input(s),"
                    f" got {len(tokens)} in {part!r}"
                )
            for expected_input, token in enumerate(tokens):
                op, sep, inp = token.partition("~")
                if not sep or inp != str(expected_input):
                    raise NasReproError(
                        f"malformed NB-201 arch string {text!r}: token {token!r} of node {node}"
                        f" should be '<op>~{expected_input}'"
                    )
                if op not in OPS:
                    raise NasReproError(
                        f"malformed NB-201 arch string {text!r}: unknown op {op!r} in node {node};"
                        f" valid: {', '.join(OPS)}"
                    )
                ops.append(op)
        return cls(tuple(ops))

    def __str__(self) -> str:
        parts, k = [], 0
        for node in range(1, NUM_NODES):
            parts.append("|" + "|".join(f"{self.ops[k + j]}~{j}" for j in range(node)) + "|")
            k += node
        return "+".join(parts)

    @property
    def op_indices(self) -> tuple[int, ...]:
        return tuple(OPS.index(op) for op in self.ops)

    @classmethod
    def from_indices(cls, indices: tuple[int, ...] | list[int]) -> Nb201Arch:
        return cls(tuple(OPS[i] for i in indices))

    def edge_op(self, node: int, inp: int) -> str:
        return self.ops[EDGES.index((node, inp))]

    def mutate(self, rng: random.Random) -> Nb201Arch:
        """REA's mutation as the NB-201 code does it: pick a node (1..3) uniformly, then one of
        its input edges uniformly, and give that edge a different op chosen uniformly. Edges are
        therefore not equally likely: 1<-0 has p=1/3, node 2's edges 1/6, node 3's edges 1/9.
        """
        node = rng.randrange(1, NUM_NODES)
        edge = EDGES.index((node, rng.randrange(node)))
        new_op = rng.choice([op for op in OPS if op != self.ops[edge]])
        ops = list(self.ops)
        ops[edge] = new_op
        return Nb201Arch(tuple(ops))

    @classmethod
    def sample(cls, rng: random.Random) -> Nb201Arch:
        """Uniform over all 15,625 cells."""
        return cls(tuple(rng.choice(OPS) for _ in range(NUM_EDGES)))


def all_archs() -> Iterator[Nb201Arch]:
    """All 15,625 cells, in lexicographic order of op indices (not the benchmark's index order)."""
    for ops in itertools.product(OPS, repeat=NUM_EDGES):
        yield Nb201Arch(ops)
