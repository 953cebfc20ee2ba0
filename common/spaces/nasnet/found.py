"""A searched NASNet-space architecture handed from a search to its retrain: the cell file a
search writes into its run folder (``cell.json``), and reading the found architecture back
from that file or from the search's run record (``results/<paper>/<experiment>__seed0.json``).

A record names its found architecture in ``protocol.found`` (searches from this module on) or,
in records written before, only in ``diagnostics.best_arch``, as the text ``str(Cell)`` gives:
``add(sep_conv_3x3~0,identity~1) ... -> [2, 3]`` for one cell (PNAS), ``normal: <cell> |
reduction: <cell>`` for a NASNet pair. ``parse_arch`` reads both back; the record's
``protocol.space`` says which operations the cell may use.

``load_found(path, space, layout)`` checks what a retrain needs: the file exists and is a
cell file or a search record, of ``space`` and of ``layout`` (a pair for NASNet, one cell for
PNAS). Anything else is one ``NasReproError`` line naming what was got and what is taken.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from common.errors import NasReproError
from common.results.record import read_json_input
from common.spaces.nasnet.cell import SPACES, Block, Cell

Arch = Cell | tuple[Cell, Cell]
CELL_FILE = "cell.json"
LAYOUTS = {"nasnet": "a (normal, reduction) pair", "pnas": "one cell"}
# NASNet searches (normal, reduction) pairs in its space, PNAS one cell in its own
LAYOUT_OF_SPACE = {"nasnet": "nasnet", "pnas": "pnas"}
_BLOCK = re.compile(r"(\w+)\((\w+)~(\d+),(\w+)~(\d+)\)$")


def cell_to_dict(cell: Cell) -> dict[str, Any]:
    """The blocks as the search built them, the output states made explicit."""
    blocks = [[b.in_a, b.op_a, b.in_b, b.op_b, b.combine] for b in cell.blocks]
    return {"blocks": blocks, "concat": list(cell.output_states())}


def cell_from_dict(data: Any, space: str) -> Cell:
    try:
        blocks = tuple(
            Block(int(a), str(oa), int(b), str(ob), str(k)) for a, oa, b, ob, k in data["blocks"]
        )
        return Cell(blocks, tuple(int(s) for s in data["concat"]), space=space)
    except (KeyError, TypeError, ValueError) as e:
        raise NasReproError(
            f"a cell is {{'blocks': [[in_a, op_a, in_b, op_b, combine], ...], 'concat': [...]}}, got {data!r}"
        ) from e


def arch_to_dict(arch: Arch) -> dict[str, Any]:
    """The cell file's content (without its provenance keys)."""
    if isinstance(arch, Cell):
        return {"space": arch.space, "layout": "pnas", "cell": cell_to_dict(arch)}
    normal, reduction = arch
    return {
        "space": normal.space,
        "layout": "nasnet",
        "normal": cell_to_dict(normal),
        "reduction": cell_to_dict(reduction),
    }


def write_cell_file(arch: Arch, path: str | Path, **provenance: Any) -> Path:
    """``arch`` and where it came from (e.g. the search's experiment, seed, reward) as JSON."""
    path = Path(path)
    path.write_text(json.dumps({**arch_to_dict(arch), **provenance}, indent=1) + "\n")
    return path


def arch_text(arch: Arch) -> str:
    """How a search record names an architecture (``parse_arch`` reads it back)."""
    if isinstance(arch, Cell):
        return str(arch)
    return f"normal: {arch[0]} | reduction: {arch[1]}"


def parse_cell(text: str, space: str) -> Cell:
    """The inverse of ``str(Cell)``: blocks ``combine(op~in,op~in)``, then ``-> [states]``."""
    body, sep, out = text.strip().partition("->")
    try:
        concat = tuple(json.loads(out)) if sep else None
        blocks = []
        for token in body.split():
            m = _BLOCK.match(token)
            if m is None:
                raise ValueError(token)
            k, oa, a, ob, b = m.groups()
            blocks.append(Block(int(a), oa, int(b), ob, k))
    except ValueError as e:
        raise NasReproError(
            f"cannot read a cell from {text!r}: expected blocks 'add(op~in,op~in)' then"
            " '-> [states]'"
        ) from e
    return Cell(tuple(blocks), concat, space=space)


def parse_arch(text: str, space: str) -> Arch:
    """One cell, or a ``normal: ... | reduction: ...`` pair (NASNet's search records)."""
    if text.strip().startswith("normal:"):
        normal, sep, reduction = text.strip()[len("normal:") :].partition("| reduction:")
        if not sep:
            raise NasReproError(
                f"a NASNet pair reads 'normal: <cell> | reduction: <cell>', got {text!r}"
            )
        return parse_cell(normal, space), parse_cell(reduction, space)
    return parse_cell(text, space)


def _from_cell_file(data: dict[str, Any], path: Path) -> tuple[Arch, dict[str, Any]]:
    space = data.get("space")
    if space not in SPACES:
        raise NasReproError(f"{path}: cell file space {space!r}; valid: {', '.join(SPACES)}")
    if data.get("layout") == "nasnet":
        arch: Arch = (
            cell_from_dict(data.get("normal"), space),
            cell_from_dict(data.get("reduction"), space),
        )
    else:
        arch = cell_from_dict(data.get("cell"), space)
    source = {
        k: v for k, v in data.items() if k not in ("space", "layout", "cell", "normal", "reduction")
    }
    return arch, {"kind": "cell file", "space": space, **source}


def _from_record(data: dict[str, Any], path: Path) -> tuple[Arch, dict[str, Any]]:
    protocol, diag = data.get("protocol") or {}, data.get("diagnostics") or {}
    space = protocol.get("space")
    text = protocol.get("found") or diag.get("best_arch")
    if data.get("stage") != "search" or space not in SPACES or not text:
        raise NasReproError(
            f"{path} is the record of {data.get('experiment')!r} (stage {data.get('stage')!r}),"
            " not a NASNet-space search with a found cell; valid: the record of a"
            " nasnet_*/pnas_* search, e.g. results/nasnet/nasnet_nasnet-space_cifar10-jpeg_reduced__seed0.json"
        )
    metrics = data.get("metrics") or {}
    best = metrics.get("best_val_acc")
    source = {
        "kind": "search record",
        "space": space,
        "experiment": data.get("experiment"),
        "seed": data.get("seed"),
        "strategy": protocol.get("strategy"),
        "git_commit": data.get("git_commit"),
        "search_best_val_acc": best[0] if isinstance(best, list) and best else best,
    }
    return parse_arch(text, space), source


def load_found(path: str | Path, space: str, layout: str) -> tuple[Arch, dict[str, Any]]:
    """The architecture in ``path`` (a cell file or a search record) and its provenance, checked
    to be of ``space`` and ``layout`` (``"nasnet"``: a pair; ``"pnas"``: one cell)."""
    path = Path(str(path)).expanduser()
    hint = "a search's run record (results/<paper>/<experiment>__seed0.json) or its run folder's cell.json"
    data = read_json_input("genotype", path, hint)
    if not isinstance(data, dict):
        raise NasReproError(f"genotype={path}: a JSON object expected; give {hint}")
    reader = _from_cell_file if "layout" in data else _from_record
    arch, source = reader(data, path)
    got_layout = "pnas" if isinstance(arch, Cell) else "nasnet"
    if source["space"] != space or got_layout != layout:
        raise NasReproError(
            f"genotype={path} holds {LAYOUTS[got_layout]} of the {source['space']} space"
            f" ({source.get('experiment') or source['kind']}); this retrain takes"
            f" {LAYOUTS[layout]} of the {space} space (a {space}_{space}-space_* search)"
        )
    return arch, {"genotype": str(path), **source}
