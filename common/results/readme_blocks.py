"""Named generated blocks in a reproduction's README, rewritten from the run records.

A README marks each generated table or paragraph with a pair of lines

    <!-- generated:NAME -->
    ...
    <!-- /generated:NAME -->

(indented as the surrounding list item is: the block's lines get the same indent). The
module named by ``readme.blocks`` in the paper's ``published.yaml`` renders them: its
``blocks(records, published, notes)`` returns ``{NAME: text}`` from the paper's canonical
records, its published record and its run notes (``readme.run_notes``, next to the README).
The module is found through that field, so ``common`` never imports a reproduction by name.
A block in the README that the module does not render, or the other way round, is an error:
no generated text goes stale silently, and none is dropped.
"""

from __future__ import annotations

import importlib
import re

from common.errors import NasReproError
from common.results import published
from common.results.run_notes import RunNotes

BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)<!-- generated:(?P<name>[\w-]+) -->\n"
    r".*?^(?P=indent)<!-- /generated:(?P=name) -->$",
    re.MULTILINE | re.DOTALL,
)


def splice(text: str, blocks: dict[str, str], where: str = "README") -> str:
    """``text`` with every marked block replaced by ``blocks[NAME]``."""
    found = [m.group("name") for m in BLOCK.finditer(text)]
    if len(found) != len(set(found)):
        raise NasReproError(f"{where}: a generated block name appears twice: {found}")
    unknown = sorted(set(found) - set(blocks))
    unused = sorted(set(blocks) - set(found))
    if unknown or unused:
        raise NasReproError(
            f"{where}: generated blocks without a renderer {unknown},"
            f" rendered blocks without markers {unused}"
        )

    def fill(m: re.Match) -> str:
        indent, name = m.group("indent"), m.group("name")
        body = "\n".join(indent + line if line else "" for line in blocks[name].splitlines())
        return f"{indent}<!-- generated:{name} -->\n{body}\n{indent}<!-- /generated:{name} -->"

    return BLOCK.sub(fill, text)


def update(paper: str, text: str, records: list[dict]) -> str:
    """The paper's README text with its generated blocks rewritten (unchanged without any)."""
    rec = published.load_published(paper)
    spec = rec.get("readme") or {}
    if "blocks" not in spec:
        return text
    folder = published.REPRODUCTIONS_DIR / paper
    notes = RunNotes.load(folder / spec.get("run_notes", "run_notes.yaml"))
    module = importlib.import_module(spec["blocks"])
    mine = [r for r in records if r["paper"] == paper]
    return splice(text, module.blocks(mine, rec, notes), f"{folder / 'README.md'}")
