"""Every published architecture in the repository is a timm model after ``import reproductions``:
each paper folder with a ``models.py`` registers its own, ``reproductions/__init__.py`` imports
them all, and each builds through ``timm.create_model`` with its provenance. Also the import
rules: ``common`` never imports ``reproductions``, and no reproduction imports another."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import timm
import torch
from torch import nn

import reproductions  # noqa: F401  (registers the models)
from common.spaces.darts import registry

REPO = Path(__file__).resolve().parents[2]
PAPER_MODULES = sorted(
    f"reproductions.{p.parent.name}.models" for p in (REPO / "reproductions").glob("*/models.py")
)
# name -> module of every published model, read from each paper's own MODELS
PUBLISHED = {
    name: module for module in PAPER_MODULES for name in importlib.import_module(module).MODELS
}
# the DARTS-space ones go through common.spaces.darts.registry; others (SPOS, FairNAS) build
# their own space's network
DARTS_SPACE = [
    name
    for name, module in PUBLISHED.items()
    if isinstance(importlib.import_module(module).MODELS[name], registry.PublishedModel)
]


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # small CPU forwards; spinning OpenMP threads only slow them
    yield
    torch.set_num_threads(before)


def test_import_reproductions_alone_registers_every_paper() -> None:
    """In a fresh interpreter, ``import reproductions`` and nothing else."""
    code = (
        "import json, sys, timm\n"
        "before = set(timm.list_models())\n"
        "import reproductions\n"
        "from common.spaces.darts.registry import MODELS\n"
        "print(json.dumps({'modules': sorted(m for m in sys.modules"
        " if m.startswith('reproductions.') and m.endswith('.models')),"
        " 'new': sorted(set(timm.list_models()) - before), 'registry': sorted(MODELS)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["modules"] == PAPER_MODULES, "reproductions/__init__.py must import each models.py"
    assert got["new"] == sorted(PUBLISHED)
    assert got["registry"] == sorted(DARTS_SPACE)


def test_each_paper_module_registers_its_own_entry_points() -> None:
    assert {"darts", "nasnet", "regularized_evolution", "enas", "pnas", "te_nas"} <= {
        m.split(".")[1] for m in PAPER_MODULES
    }
    for module in PAPER_MODULES:
        mod = importlib.import_module(module)
        assert sorted(mod.__all__) == sorted(mod.MODELS), module  # one @register_model each
        for name in mod.MODELS:
            assert timm.models.model_entrypoint(name).__module__ == module, name
            if name in DARTS_SPACE:
                assert mod.MODELS[name].cell in mod.CELLS, f"{name}: a cell of another paper"
    assert sorted(registry.MODELS) == sorted(DARTS_SPACE)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_model_builds_through_timm(name: str) -> None:
    torch.manual_seed(0)
    model = timm.create_model(name)
    assert isinstance(model, nn.Module)
    prov = model.provenance
    for key in ("paper", "paper_id", "origin", "origin_url", "table", "notes", "network"):
        assert prov[key], (name, key)
    assert prov["paper_id"].startswith("arXiv:")
    assert prov["origin_url"].startswith("https://github.com/")
    assert prov == importlib.import_module(PUBLISHED[name]).PROVENANCE[name]
    cfg = model.pretrained_cfg
    assert cfg["paper_ids"] == prov["paper_id"] and cfg["origin_url"] == prov["origin_url"]
    assert timm.models.get_pretrained_cfg(name).paper_name == prov["paper"]
    size = cfg["input_size"][1:]
    if size == (32, 32):  # the 224 x 224 ImageNet networks are checked by their paper's test
        with torch.no_grad():
            assert model.eval()(torch.randn(1, 3, *size)).shape == (1, cfg["num_classes"])


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def test_common_never_imports_reproductions() -> None:
    for path in sorted((REPO / "common").rglob("*.py")):
        bad = [m for m in _imports(path) if m.split(".")[0] == "reproductions"]
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_no_reproduction_imports_another() -> None:
    for path in sorted((REPO / "reproductions").glob("*/**/*.py")):
        paper = path.relative_to(REPO / "reproductions").parts[0]
        bad = [
            m
            for m in _imports(path)
            if m.split(".")[0] == "reproductions" and m.split(".")[1:2] != [paper]
        ]
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"
