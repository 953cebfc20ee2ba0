"""Published records: ``reproductions/<paper>/published.yaml``, data next to the code.

Each holds the paper (citation metadata and BibTeX) and its published numbers, each with
the experiment and metric that reproduce it, its source (key + table/section), a tolerance
band and a confidence: ``verified`` = read in the primary source; ``secondary`` = read in a
paper that copies it; ``unverified`` = a lead not yet checked against any source opened here
(shown as such on the leaderboard). ``validate`` is the checker the tests run on every file.
An optional ``anchors`` list holds reference points that no experiment reproduces (e.g. the
ranking quality of a released supernet), with the same provenance fields.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from common.errors import NasReproError

REPO_ROOT = Path(__file__).resolve().parents[2]
REPRODUCTIONS_DIR = REPO_ROOT / "reproductions"
PAPER_KEYS = ("key", "title", "authors", "venue", "year", "bibtex")
RESULT_KEYS = ("id", "experiment", "metric", "dataset", "value", "source", "where", "confidence")
ANCHOR_KEYS = ("id", "metric", "dataset", "value", "source", "where", "confidence")
CONFIDENCE = ("verified", "secondary", "unverified")


def published_path(paper: str) -> Path:
    return REPRODUCTIONS_DIR / paper / "published.yaml"


def list_papers() -> list[str]:
    return sorted(p.parent.name for p in REPRODUCTIONS_DIR.glob("*/published.yaml"))


def load_published(paper: str) -> dict:
    path = published_path(paper)
    if not path.is_file():
        from common.errors import choices_error

        raise choices_error("paper", paper, list_papers())
    with open(path) as f:
        record = yaml.safe_load(f)
    validate(record, path)
    for res in record["results"]:  # one number may be reproduced by several experiments
        exps = res["experiment"]
        res["experiments"] = [exps] if isinstance(exps, str) else list(exps)
    record["name"] = paper
    return record


def validate(record: dict, path: Path | str = "<published>") -> None:
    """Every published number must say where it comes from and how far a reproduction may be."""
    for key in PAPER_KEYS:
        if key not in record.get("paper", {}):
            raise NasReproError(f"{path}: paper.{key} missing")
    ids = set()
    for res in record.get("results", []):
        missing = [k for k in RESULT_KEYS if k not in res]
        if missing:
            raise NasReproError(f"{path}: result {res.get('id')!r} lacks {missing}")
        if res["id"] in ids:
            raise NasReproError(f"{path}: duplicate result id {res['id']!r}")
        ids.add(res["id"])
        if res["confidence"] not in CONFIDENCE:
            raise NasReproError(
                f"{path}: result {res['id']!r} confidence must be one of {CONFIDENCE}"
            )
        if "tolerance" not in res and "std" not in res:
            raise NasReproError(f"{path}: result {res['id']!r} needs a std or a tolerance")
        if (
            res["source"] not in record.get("sources", {})
            and res["source"] != record["paper"]["key"]
        ):
            raise NasReproError(
                f"{path}: result {res['id']!r} cites unknown source {res['source']!r}"
            )
    for anchor in record.get("anchors", []):
        missing = [k for k in ANCHOR_KEYS if k not in anchor]
        if missing:
            raise NasReproError(f"{path}: anchor {anchor.get('id')!r} lacks {missing}")
        if anchor["id"] in ids:
            raise NasReproError(f"{path}: duplicate id {anchor['id']!r}")
        ids.add(anchor["id"])
        if anchor["confidence"] not in CONFIDENCE:
            raise NasReproError(
                f"{path}: anchor {anchor['id']!r} confidence must be one of {CONFIDENCE}"
            )
        if anchor["source"] not in {*record.get("sources", {}), record["paper"]["key"]}:
            raise NasReproError(
                f"{path}: anchor {anchor['id']!r} cites unknown source {anchor['source']!r}"
            )


def results_for(experiment: str) -> list[dict]:
    """Published numbers (across all papers) that ``experiment`` reproduces."""
    out = []
    for paper in list_papers():
        for res in load_published(paper)["results"]:
            if experiment in res["experiments"]:
                out.append(res)
    return out
