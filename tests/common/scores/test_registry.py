"""The registry of training-free scores, and that the scores package loads no data."""

import ast
from pathlib import Path

from common.scores import HIGHER_IS_BETTER, SCORES


def test_registry():
    assert set(SCORES) == {
        "naswot",
        "ntk_cond",
        "linear_regions",
        "grad_norm",
        "snip",
        "grasp",
        "fisher",
        "jacob_cov",
        "synflow",
    }
    assert HIGHER_IS_BETTER["ntk_cond"] is False and HIGHER_IS_BETTER["synflow"] is True


def test_scores_load_nothing():
    """Scores compute; images reach them only through the data modules (common/data)."""
    package = Path(__file__).resolve().parents[3] / "common" / "scores"
    for path in package.glob("*.py"):
        if path.name == "cache.py":  # reads and appends its own file of scores, no images
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.startswith("common.data") for n in names), path.name
            if isinstance(node, ast.Attribute) and node.attr in ("load", "open", "read_csv"):
                assert False, f"{path.name}:{node.lineno} reads a file"
