"""Run notes: per-run facts a reproduction's run records do not hold, as data next to its README.

What else shared the host during a run, a host the record's device string does not name,
which runs a README leaves out of a cost range, which runs sampled a given cell: labels that
were once typed into README rows by hand. ``reproductions/<paper>/run_notes.yaml`` holds them
keyed by experiment and seed (a seed or a range ``a-b``); the generated README blocks read
them here, so that no label lives only in generated text. Numbers a record holds never go here.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from common.errors import NasReproError

RUN_FIELDS = {
    "shared",
    "also",
    "load",
    "host",
    "host_note",
    "alone_from_s",
    "in_cost_range",
    "in_cost_table",
}
SAMPLED_FIELDS = {"replayed", "listed_before_run", "replayed_before_run"}


def parse_seeds(key: object, where: str) -> list[int]:
    """``7`` -> [7]; ``"3-5"`` -> [3, 4, 5]."""
    if isinstance(key, int):
        return [key]
    lo, sep, hi = str(key).partition("-")
    if not (lo.isdigit() and (not sep or hi.isdigit())) or (sep and int(hi) < int(lo)):
        raise NasReproError(f"{where}: {key!r} is neither a seed nor a range a-b of seeds")
    return list(range(int(lo), int(hi or lo) + 1))


def expand(runs: dict, fields: set[str], where: str) -> dict[int, dict]:
    """Per-seed entries from keys that are seeds or ranges; overlapping keys are an error."""
    out: dict[int, dict] = {}
    for key, entry in (runs or {}).items():
        entry = entry or {}
        unknown = set(entry) - fields
        if unknown:
            raise NasReproError(
                f"{where} {key}: unknown fields {sorted(unknown)}; valid: {sorted(fields)}"
            )
        for seed in parse_seeds(key, where):
            if seed in out:
                raise NasReproError(f"{where}: seed {seed} is named by two keys")
            out[seed] = dict(entry)
    return out


class RunNotes:
    """The notes of one reproduction; empty (every lookup a default) without a file."""

    def __init__(self, data: dict | None = None, path: Path | str = "<run notes>") -> None:
        data = data or {}
        self.path = str(path)
        self.kernel_by_commit = {
            commit: product
            for product, commits in (data.get("kernel_product") or {}).items()
            for commit in commits
        }
        self.host_details: dict[str, str] = data.get("hosts") or {}
        self.defaults: dict[str, dict] = {}
        self.runs: dict[str, dict[int, dict]] = {}
        for exp, spec in (data.get("experiments") or {}).items():
            where = f"{self.path}: experiments.{exp}"
            self.defaults[exp] = dict(spec.get("default") or {})
            self.runs[exp] = expand(spec.get("runs"), RUN_FIELDS, where)
            for seed, entry in self.runs[exp].items():
                if "also" in entry and not entry.get("load"):
                    raise NasReproError(f"{where} seed {seed}: `also` needs its `load` kinds")
        cell = data.get("sampled_cell") or {}
        self.cell: str | None = cell.get("cell")
        self.cell_name: str = cell.get("name", "the cell")
        self.sampled: dict[str, dict] = {}
        for exp, spec in (cell.get("experiments") or {}).items():
            where = f"{self.path}: sampled_cell.experiments.{exp}"
            self.sampled[exp] = {
                **spec,
                "seeds_listed": parse_seeds(spec["seeds_listed"], where),
                "runs": expand(spec.get("runs"), SAMPLED_FIELDS, where),
            }

    @classmethod
    def load(cls, path: Path) -> RunNotes:
        if not path.is_file():
            return cls()
        with open(path) as f:
            return cls(yaml.safe_load(f), path)

    def run(self, experiment: str, seed: int) -> dict:
        """The notes of one run: its own entry over the experiment's default."""
        return {**self.defaults.get(experiment, {}), **self.runs.get(experiment, {}).get(seed, {})}

    def shared(self, experiment: str, seed: int) -> str | None:
        """What else ran on the host, as a table row says it."""
        note = self.run(experiment, seed)
        text = note.get("shared")
        if note.get("also"):
            text = f"{text} and, {note['also']}" if text else note["also"]
        return text

    def kernel_product(self, rec: dict) -> str:
        """The CPU ``K`` product of a record: its own field if it has one, else by commit."""
        product = rec.get("protocol", {}).get("kernel_product")
        if product:
            return product
        commit = (rec.get("git_commit") or "")[:8]
        if commit not in self.kernel_by_commit:
            raise NasReproError(
                f"{self.path}: no kernel_product for commit {commit or 'unknown'} of"
                f" {rec['experiment']} seed {rec['seed']}; add it there"
            )
        return self.kernel_by_commit[commit]

    def check_seeds(self, experiment: str, seeds: set[int]) -> None:
        """Notes of runs that have no record are typos or stale: refuse them."""
        stray = sorted(set(self.runs.get(experiment, {})) - seeds)
        if stray:
            raise NasReproError(
                f"{self.path}: notes for {experiment} seeds {stray}, which have no record"
            )
