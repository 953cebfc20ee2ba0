"""NAS-Bench-Macro as a tabular benchmark (Su et al., CVPR 2021; xiusu/NAS-Bench-Macro
@61a2bfc, data/nas-bench-macro_cifar10.json, Apache-2.0).

The official file maps each of the 6,561 codes to ``test_acc`` (three training runs, seeds
0, 1, 2: train/train.py seeds with ``args.seed`` and then increments it), ``mean_acc``,
``std`` (numpy's, ddof 0), ``params`` (all parameters, a plain count) and ``flops``
(multiply-adds of convs and the linear layer at 32x32). Codes of one network
(``MacroArch.canonical``) share one entry: the authors trained the canonical code and copied
its result (train/collect_benchmark.py).

Each ``test_acc`` is the best CIFAR-10 test accuracy over the 50 training epochs
(train/train.py keeps ``best_acc``), so the table selected on the test set: its accuracies are
a ranking truth for a search, never a final number to report as ours.

``NbMacroBenchmark.session()`` hands a search its own ``QuerySession``: the only way a search
sees an accuracy, and it counts the queries the search spent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.benchmarks.nb201 import sha256_of
from common.errors import NasReproError, choices_error
from common.spaces.nb_macro.arch import NUM_ARCHS, MacroArch

# sha256 of data/nas-bench-macro_cifar10.json at xiusu/NAS-Bench-Macro@61a2bfc (1,178,821 B)
OFFICIAL_SHA256 = "686dee8363cc21cca8c1f321ad5749454f2d9b9ca5972682e137e539bc522297"
WHERE_TO_GET = (
    "download data/nas-bench-macro_cifar10.json from https://github.com/xiusu/NAS-Bench-Macro"
    " (commit 61a2bfc)"
)
NUM_SEEDS = 3  # `for _ in range(3): # train 3 times`, train/train.py @61a2bfc
SEED_COLUMNS = tuple(f"test_acc_seed{s}" for s in range(NUM_SEEDS))
ACC_COLUMNS: tuple[str, ...] = ("mean_acc", *SEED_COLUMNS)
COLUMNS: tuple[str, ...] = (*ACC_COLUMNS, "std", "params", "flops")
RAW_KEYS = ("test_acc", "mean_acc", "std", "params", "flops")


class NbMacroBenchmark:
    """All 6,561 NAS-Bench-Macro results, as columns indexed by ``MacroArch.index``."""

    def __init__(self, columns: dict[str, np.ndarray], source: str, variant: str) -> None:
        self.columns = columns
        self.source = source
        self.variant = variant  # which benchmark file the numbers come from (for records)

    @classmethod
    def from_json(
        cls,
        path: str | Path,
        sha256: str | None = OFFICIAL_SHA256,
        variant: str = "nas-bench-macro-cifar10",
    ) -> NbMacroBenchmark:
        """Load the official JSON; check its checksum; fail in one line on a missing, corrupt
        or malformed file."""
        path = Path(path).expanduser()
        if not path.is_file():
            raise NasReproError(f"NAS-Bench-Macro file not found at {path}; {WHERE_TO_GET}")
        if sha256 is not None and (got := sha256_of(path)) != sha256:
            raise NasReproError(
                f"NAS-Bench-Macro file {path} is corrupt or another version: sha256"
                f" {got[:16]}... != expected {sha256[:16]}...; {WHERE_TO_GET} (or set"
                " benchmark.sha256=null for a file in the same format)"
            )
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise NasReproError(f"cannot read NAS-Bench-Macro file {path}: {e}") from e
        if not isinstance(raw, dict) or len(raw) != NUM_ARCHS:
            n = len(raw) if isinstance(raw, dict) else type(raw).__name__
            raise NasReproError(f"NAS-Bench-Macro file {path} has {n} entries, not {NUM_ARCHS}")
        columns = {c: np.full(NUM_ARCHS, np.nan) for c in COLUMNS}
        for key, entry in raw.items():
            index = MacroArch.parse(key).index
            if not isinstance(entry, dict) or set(RAW_KEYS) - set(entry):
                raise NasReproError(
                    f"NAS-Bench-Macro file {path}: entry {key!r} lacks one of {list(RAW_KEYS)}"
                )
            if len(entry["test_acc"]) != NUM_SEEDS:
                raise NasReproError(
                    f"NAS-Bench-Macro file {path}: entry {key!r} has"
                    f" {len(entry['test_acc'])} test accuracies, not {NUM_SEEDS}"
                )
            for column, acc in zip(SEED_COLUMNS, entry["test_acc"], strict=True):
                columns[column][index] = acc
            for column in ("mean_acc", "std", "params", "flops"):
                columns[column][index] = entry[column]
        return cls(columns, source=str(path), variant=variant)

    def value(self, arch: MacroArch, column: str) -> float:
        """One table entry, uncounted: for reporting a found architecture, never for search.
        An accuracy is a best-over-epochs test accuracy (see the module docstring)."""
        if column not in self.columns:
            raise choices_error("NAS-Bench-Macro column", column, list(self.columns))
        return float(self.columns[column][arch.index])

    def test_accs(self, arch: MacroArch) -> tuple[float, ...]:
        """The three runs' accuracies (seeds 0, 1, 2), uncounted."""
        return tuple(self.value(arch, c) for c in SEED_COLUMNS)

    def session(self, signal: str = "mean_acc", budget_queries: int = 1000) -> QuerySession:
        """A budget-counting view for one search run (see ``QuerySession``)."""
        if signal not in ACC_COLUMNS:
            raise choices_error("NAS-Bench-Macro search signal", signal, list(ACC_COLUMNS))
        return QuerySession(self, signal, budget_queries)


@dataclass
class QuerySession:
    """What a search may see, and what it spent.

    ``query(arch)`` returns the ``signal`` accuracy of ``arch`` and charges one query. The
    budget is a number of queries: the table has no training times, so it cannot charge
    simulated seconds as the NB-201 session does. As there (and in google-research/nasbench's
    ``query``), every query is charged, a repeat included; ``seen`` keeps the canonical codes
    queried, so ``len(seen)`` counts the distinct networks a search has looked at. A query
    beyond ``budget_queries`` is not charged and returns None: the search must stop.
    """

    bench: NbMacroBenchmark
    signal: str
    budget_queries: int
    num_queries: int = 0
    seen: set[str] = field(default_factory=set)

    def fits(self) -> bool:
        """Whether one more query stays within the budget (nothing is charged)."""
        return self.num_queries < self.budget_queries

    def query(self, arch: MacroArch, enforce_budget: bool = True) -> float | None:
        if enforce_budget and not self.fits():
            return None
        self.num_queries += 1
        self.seen.add(str(arch.canonical()))
        return float(self.bench.columns[self.signal][arch.index])
