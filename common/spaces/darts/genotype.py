"""DARTS genotypes as pure data (Liu, Simonyan & Yang, ICLR 2019, Sect. 2.1 and 2.4; authors'
code: github.com/quark0/darts ``cnn/genotypes.py`` @ f276dd3).

A genotype holds two cells, ``normal`` and ``reduce``. Each lists two ``(op, input)`` entries
per intermediate node, in node order. States are numbered as in the authors' code: 0 and 1
are the outputs of the cells k-2 and k-1, and intermediate node ``i`` (0-based) is state
``i + 2``, so it may read states ``0 .. i + 1``. The cell output concatenates the states listed
in ``normal_concat`` / ``reduce_concat`` along channels.

The DARTS search space proper has 4 intermediate nodes and the 8 ``PRIMITIVES`` (7 without
``none``); ``Genotype.parse``, ``from_json`` and ``load`` check that by default. Cells from
other papers re-encoded as genotypes (NASNet-A, AmoebaNet-A, ENAS, PNASNet-5) have 5 nodes
and use ops outside the space; they pass ``steps=None, ops=ALL_OPS``. Every ``Genotype`` is
structurally valid on construction (known ops, inputs that exist, concat of existing states).

The canonical string form is the authors' ``repr`` of their namedtuple, with lists::

    Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5],
             reduce=[('max_pool_3x3', 0), ...], reduce_concat=[2, 3, 4, 5])

(on one line). ``parse`` also reads the authors' ``range(2, 6)`` concat form and JSON.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import NasReproError

# The search space: cnn/genotypes.py PRIMITIVES, in the authors' order (alpha columns follow it).
PRIMITIVES: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
# Ops the authors' cnn/operations.py defines beyond PRIMITIVES, used by the NASNet-A and
# AmoebaNet-A genotypes (and by the PNASNet-5 re-encoding).
EXTRA_OPS: tuple[str, ...] = ("sep_conv_7x7", "conv_7x1_1x7")
ALL_OPS: tuple[str, ...] = PRIMITIVES + EXTRA_OPS
STEPS = 4  # intermediate nodes per cell in the DARTS space (Sect. 3.1.1: N = 7 nodes in all)
NUM_INPUTS = 2  # the outputs of cells k-2 and k-1
FIELDS: tuple[str, ...] = ("normal", "normal_concat", "reduce", "reduce_concat")

Entry = tuple[str, int]


def _error(message: str) -> NasReproError:
    return NasReproError(f"malformed DARTS genotype: {message}")


def _coerce_cell(name: str, value: object) -> tuple[Entry, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _error(f"{name} must be a list of (op, input) pairs, got {value!r}")
    entries: list[Entry] = []
    for k, entry in enumerate(value):
        if isinstance(entry, (str, bytes)) or not isinstance(entry, Sequence) or len(entry) != 2:
            raise _error(f"{name}[{k}] must be an (op, input) pair, got {entry!r}")
        op, inp = entry
        if not isinstance(op, str):
            raise _error(f"{name}[{k}] {tuple(entry)!r}: the op must be a name (str)")
        if isinstance(inp, bool) or not isinstance(inp, int):
            raise _error(f"{name}[{k}] {tuple(entry)!r}: the input must be an int state index")
        entries.append((op, inp))
    return tuple(entries)


def _coerce_concat(name: str, value: object) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, range)):
        raise _error(f"{name} must be a list of state indices, got {value!r}")
    items = tuple(value)
    if any(isinstance(i, bool) or not isinstance(i, int) for i in items):
        raise _error(f"{name} must be a list of int state indices, got {list(items)!r}")
    return items


def _check_cell(
    name: str, entries: tuple[Entry, ...], concat: tuple[int, ...], ops: Sequence[str]
) -> None:
    """Structure of one cell: pairs per node, known ops, inputs that exist, valid concat."""
    if not entries or len(entries) % 2:
        raise _error(f"{name} must list 2 (op, input) entries per node, got {len(entries)} entries")
    for k, (op, inp) in enumerate(entries):
        if op not in ops:
            raise _error(f"unknown op {op!r} in {name}[{k}]; valid: {', '.join(ops)}")
        node = NUM_INPUTS + k // 2
        if not 0 <= inp < node:
            raise _error(
                f"{name}[{k}] {(op, inp)!r}: input {inp} is out of range for node {node},"
                f" which reads states 0..{node - 1} (0, 1 = cells k-2, k-1; 2.. = earlier nodes)"
            )
    num_states = NUM_INPUTS + len(entries) // 2
    concat_name = f"{name}_concat"
    if not concat:
        raise _error(f"{concat_name} is empty; it must name the states the cell outputs")
    bad = [i for i in concat if not 0 <= i < num_states]
    if bad:
        raise _error(
            f"{concat_name} {list(concat)!r} names state {bad[0]}; {name} has states"
            f" 0..{num_states - 1}"
        )
    if len(set(concat)) != len(concat):
        raise _error(f"{concat_name} {list(concat)!r} repeats a state")


@dataclass(frozen=True, repr=False)
class Genotype:
    """A discrete DARTS architecture: the normal and the reduction cell and what they output.

    Lists and ``range`` objects are accepted and stored as tuples, so genotypes are hashable
    and compare by value.
    """

    normal: tuple[Entry, ...]
    normal_concat: tuple[int, ...]
    reduce: tuple[Entry, ...]
    reduce_concat: tuple[int, ...]

    def __post_init__(self) -> None:
        for cell in ("normal", "reduce"):
            entries = _coerce_cell(cell, getattr(self, cell))
            concat = _coerce_concat(f"{cell}_concat", getattr(self, f"{cell}_concat"))
            _check_cell(cell, entries, concat, ALL_OPS)
            object.__setattr__(self, cell, entries)
            object.__setattr__(self, f"{cell}_concat", concat)

    # --- the search-space check -------------------------------------------------------------

    def validate(self, steps: int | None = STEPS, ops: Sequence[str] = PRIMITIVES) -> Genotype:
        """Check that both cells have ``steps`` nodes (any number if None) and use only
        ``ops``; returns the genotype, raises ``NasReproError`` naming the bad part."""
        for cell in ("normal", "reduce"):
            entries: tuple[Entry, ...] = getattr(self, cell)
            if steps is not None and len(entries) != 2 * steps:
                raise _error(
                    f"{cell} must list 2 (op, input) entries per node for {steps} nodes"
                    f" ({2 * steps} entries), got {len(entries)}"
                )
            _check_cell(cell, entries, getattr(self, f"{cell}_concat"), ops)
        return self

    @property
    def steps(self) -> tuple[int, int]:
        """Intermediate nodes of the (normal, reduction) cell."""
        return len(self.normal) // 2, len(self.reduce) // 2

    # --- canonical string ------------------------------------------------------------------

    def __str__(self) -> str:
        def cell(entries: tuple[Entry, ...]) -> str:
            return "[" + ", ".join(f"({op!r}, {inp})" for op, inp in entries) + "]"

        return (
            f"Genotype(normal={cell(self.normal)}, normal_concat={list(self.normal_concat)},"
            f" reduce={cell(self.reduce)}, reduce_concat={list(self.reduce_concat)})"
        )

    __repr__ = __str__

    def digest(self) -> str:
        """A short stable id: the first 16 hex digits of the SHA-256 of the canonical string."""
        return hashlib.sha256(str(self).encode()).hexdigest()[:16]

    @classmethod
    def parse(
        cls, text: str, steps: int | None = STEPS, ops: Sequence[str] = PRIMITIVES
    ) -> Genotype:
        """Read the canonical form, the authors' printed form (``range(2, 6)`` concat, an
        optional ``genotype = `` prefix as in their search logs) or JSON; then ``validate``."""
        stripped = text.strip()
        if stripped.startswith("{"):
            return cls.from_json(stripped, steps=steps, ops=ops)
        start = stripped.find("Genotype(")
        if start < 0:
            raise _error(f"expected 'Genotype(normal=..., ...)' or JSON, got {text!r:.80}")
        try:
            call = ast.parse(stripped[start:], mode="eval").body
        except SyntaxError as e:
            raise _error(f"not a Python expression ({e.msg}): {text!r:.80}") from None
        if not isinstance(call, ast.Call) or len(call.args) + len(call.keywords) != 4:
            raise _error(f"Genotype(...) must have the 4 fields {', '.join(FIELDS)}")
        values: dict[str, Any] = {}
        for field, node in zip(FIELDS, call.args, strict=False):  # fewer positionals is fine
            values[field] = _literal(field, node)
        for kw in call.keywords:
            if kw.arg not in FIELDS or kw.arg in values:
                raise _error(
                    f"unexpected or repeated field {kw.arg!r}; fields: {', '.join(FIELDS)}"
                )
            values[kw.arg] = _literal(kw.arg, kw.value)
        return cls.from_dict(values, steps=steps, ops=ops)

    # --- JSON and files --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "normal": [[op, inp] for op, inp in self.normal],
            "normal_concat": list(self.normal_concat),
            "reduce": [[op, inp] for op, inp in self.reduce],
            "reduce_concat": list(self.reduce_concat),
        }

    @classmethod
    def from_dict(
        cls, data: object, steps: int | None = STEPS, ops: Sequence[str] = PRIMITIVES
    ) -> Genotype:
        if not isinstance(data, dict):
            raise _error(f"expected an object with fields {', '.join(FIELDS)}, got {data!r:.80}")
        missing = [f for f in FIELDS if f not in data]
        extra = sorted(set(data) - set(FIELDS) - {"str"})  # "str": the readable copy ``save`` adds
        if missing or extra:
            raise _error(f"missing fields {missing}, unexpected fields {extra}")
        return cls(**{f: data[f] for f in FIELDS}).validate(steps=steps, ops=ops)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(
        cls, text: str, steps: int | None = STEPS, ops: Sequence[str] = PRIMITIVES
    ) -> Genotype:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise _error(f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
        return cls.from_dict(data, steps=steps, ops=ops)

    def save(self, path: str | Path) -> None:
        """Write the genotype as JSON (with the canonical string under ``"str"``, for reading)."""
        data = {**self.to_dict(), "str": str(self)}
        Path(path).write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(
        cls, path: str | Path, steps: int | None = STEPS, ops: Sequence[str] = PRIMITIVES
    ) -> Genotype:
        """Read a file written by ``save`` (or any JSON or canonical-string genotype file)."""
        p = Path(path)
        if not p.is_file():
            raise NasReproError(f"genotype file not found: {p}")
        text = p.read_text()
        if text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise _error(f"{p} is not valid JSON ({e.msg} at line {e.lineno})") from None
            return cls.from_dict(data, steps=steps, ops=ops)
        return cls.parse(text, steps=steps, ops=ops)


def _literal(field: str, node: ast.expr) -> Any:
    """A literal list/tuple, or ``range(a, b)`` (the authors write concat that way)."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and not node.keywords
    ):
        try:
            return list(range(*(ast.literal_eval(a) for a in node.args)))
        except (ValueError, TypeError):
            raise _error(f"{field}: bad range(...) arguments") from None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        raise _error(f"{field} must be a literal list, got {ast.unparse(node)!r:.80}") from None
