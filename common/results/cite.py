"""``nasrepro-cite``: BibTeX of a reproduced paper, of the benchmark papers it relies on, or of
this repository (from CITATION.cff, so the two never disagree)."""

from __future__ import annotations

import argparse
import sys

import yaml

from common.errors import NasReproError, choices_error
from common.results import published


def repository_bibtex() -> str:
    with open(published.REPO_ROOT / "CITATION.cff") as f:
        cff = yaml.safe_load(f)
    authors = " and ".join(
        f"{a['family-names']}, {a['given-names']}" if "family-names" in a else a["name"]
        for a in cff["authors"]
    )
    return (
        "@software{nasrepro,\n"
        f"  title   = {{{cff['title']}}},\n"
        f"  author  = {{{authors}}},\n"
        f"  version = {{{cff['version']}}},\n"
        f"  year    = {{{str(cff['date-released'])[:4]}}}\n"
        "}"
    )


def paper_bibtex(paper: str) -> str:
    rec = published.load_published(paper)
    entries = [rec["paper"]["bibtex"].strip()]
    entries += [s["bibtex"].strip() for s in rec.get("sources", {}).values() if "bibtex" in s]
    return "\n\n".join(entries)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Print BibTeX for a paper or for this repository.")
    ap.add_argument(
        "what", nargs="?", default="repo", help="repo (default), all, or a paper folder"
    )
    args = ap.parse_args(argv)
    try:
        if args.what == "repo":
            print(repository_bibtex())
        elif args.what == "all":
            print(repository_bibtex())
            for paper in published.list_papers():
                print("\n" + paper_bibtex(paper))
        elif args.what in published.list_papers():
            print(paper_bibtex(args.what))
        else:
            raise choices_error("paper", args.what, ["repo", "all", *published.list_papers()])
    except NasReproError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
