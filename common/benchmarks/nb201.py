"""NAS-Bench-201 as a tabular benchmark (Dong & Yang, ICLR 2020; NATS-Bench TSS, TPAMI 2021).

One table row per architecture holds its 200-epoch and 12-epoch accuracies on the benchmark's
splits, its size and its training time. The table is held as columns of numpy arrays indexed
by the arch code (base-5 op indices, see ``arch_code``), so a query is an array lookup.

``Nb201Benchmark.session()`` hands a search its own ``QuerySession``: the only way a search
sees an accuracy, and it counts what the search spent (queries and simulated training time),
like google-research/nasbench's ``query()`` and NB-201's ``simulate_train_eval``.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.errors import NasReproError, choices_error
from common.spaces.nb201.arch import NUM_ARCHS, OPS, Nb201Arch

log = logging.getLogger(__name__)

# sha256 of the compact table as distributed (nb201.csv.gz); a file whose checksum differs is
# refused unless the config passes `sha256: null` (e.g. a table the user converted themselves).
COMPACT_TABLE_SHA256 = "e6a9e3ccd6b3646dbc19935ca4b2174aa12ddff44aa8cc653b1740142fb99dba"
# The same compact table, shipped inside the package (0.8 MB; provenance and licence in
# data/README.md), so that the NB-201 rows rerun without a download.
EMBEDDED_TABLE = Path(__file__).resolve().parent / "data" / "nb201.csv.gz"

WHERE_TO_GET = (
    "get the NATS-Bench topology archive (NATS-tss-v1_0-3ffb9-simple) or NAS-Bench-201-v1_1-096897.pth"
    " from the NATS-Bench / NAS-Bench-201 release pages and convert it with"
    " `python scripts/nb201_convert.py <file> <out.csv.gz>`, or use a compact nb201.csv.gz"
)

# The compact table's metric columns (see the data README): 200-epoch and 12-epoch results.
ACC_COLUMNS: tuple[str, ...] = (
    "cifar10_valid",
    "cifar10_test",
    "cifar10valid_test",
    "cifar100_valid",
    "cifar100_test",
    "imagenet16_valid",
    "imagenet16_test",
    "cifar10_valid_12ep",
    "cifar10_test_12ep",
    "cifar100_valid_12ep",
    "cifar100_test_12ep",
    "imagenet16_valid_12ep",
    "imagenet16_test_12ep",
)
OTHER_COLUMNS: tuple[str, ...] = (
    "params_m_cifar10",
    "params_m_cifar100",
    "params_m_imagenet16",
    "flops_m_cifar10_naslib",
    "flops_m_imagenet16_naslib",
    "cifar10valid_train_time_s",
)
REQUIRED_COLUMNS = ("index", "arch", *ACC_COLUMNS, *OTHER_COLUMNS)


def arch_code(arch: Nb201Arch) -> int:
    """Position of ``arch`` in the lexicographic enumeration (``all_archs``): 0..15,624."""
    code = 0
    for i in arch.op_indices:
        code = code * len(OPS) + i
    return code


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Nb201Benchmark:
    """All 15,625 NB-201 results, read from the compact CSV table."""

    def __init__(
        self,
        columns: dict[str, np.ndarray],
        bench_index: np.ndarray,
        source: str,
        variant: str = "nb201-table",
    ) -> None:
        self.columns = columns
        self.bench_index = bench_index  # NB-201 / NATS-Bench topology index, per arch code
        self.source = source
        self.variant = variant  # which benchmark file the numbers come from (for records)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        sha256: str | None = COMPACT_TABLE_SHA256,
        variant: str = "nb201-table",
        fallback_to_embedded: bool = False,
    ) -> Nb201Benchmark:
        """Load the compact table; check its checksum; fail in one line on a missing/corrupt file.

        With ``fallback_to_embedded``, a missing file that was expected to be the compact table
        (``sha256`` is its checksum) is replaced by the identical copy in the package
        (``EMBEDDED_TABLE``), checked the same way; any other missing file is an error."""
        import pandas as pd

        path = Path(path).expanduser()
        if (
            fallback_to_embedded
            and not path.is_file()
            and sha256 == COMPACT_TABLE_SHA256
            and EMBEDDED_TABLE.is_file()
        ):
            log.info(
                "no NAS-Bench-201 table at %s: using the embedded copy %s", path, EMBEDDED_TABLE
            )
            path = EMBEDDED_TABLE
        if not path.is_file():
            raise NasReproError(f"NAS-Bench-201 table not found at {path}; {WHERE_TO_GET}")
        if sha256 is not None and (got := sha256_of(path)) != sha256:
            raise NasReproError(
                f"NAS-Bench-201 table {path} is corrupt or another version: sha256 {got[:16]}..."
                f" != expected {sha256[:16]}...; {WHERE_TO_GET} (or set benchmark.sha256=null"
                " for a table you converted yourself)"
            )
        try:
            df = pd.read_csv(path)
        except (OSError, EOFError, ValueError, gzip.BadGzipFile) as e:
            raise NasReproError(f"cannot read NAS-Bench-201 table {path}: {e}") from e
        missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
        if missing:
            raise NasReproError(f"NAS-Bench-201 table {path} lacks columns {missing}")
        if len(df) != NUM_ARCHS:
            raise NasReproError(f"NAS-Bench-201 table {path} has {len(df)} rows, not {NUM_ARCHS}")
        codes = np.array([arch_code(Nb201Arch.parse(s)) for s in df["arch"]])
        if len(set(codes.tolist())) != NUM_ARCHS:
            raise NasReproError(f"NAS-Bench-201 table {path} has duplicate architectures")
        order = np.argsort(codes)
        columns = {
            c: df[c].to_numpy(dtype=np.float64)[order] for c in (*ACC_COLUMNS, *OTHER_COLUMNS)
        }
        return cls(columns, df["index"].to_numpy()[order], source=str(path), variant=variant)

    def value(self, arch: Nb201Arch, column: str) -> float:
        """One table entry, uncounted: for reporting a found architecture, never for search."""
        if column not in self.columns:
            raise choices_error("NB-201 column", column, list(self.columns))
        return float(self.columns[column][arch_code(arch)])

    def index_of(self, arch: Nb201Arch) -> int:
        return int(self.bench_index[arch_code(arch)])

    def session(
        self, signal: str, time_column: str, time_scale: float, time_budget_s: float
    ) -> QuerySession:
        """A budget-counting view for one search run (see ``QuerySession``)."""
        for column in (signal, time_column):
            if column not in self.columns:
                raise choices_error("NB-201 column", column, list(self.columns))
        return QuerySession(self, signal, time_column, time_scale, time_budget_s)


@dataclass
class QuerySession:
    """What a search may see, and what it spent.

    ``query(arch)`` returns the search signal of ``arch`` (NB-201 protocol: the 12-epoch
    validation accuracy on ``cifar10-valid``) and charges its simulated training time,
    ``time_column * time_scale`` seconds. As in the NB-201 search scripts, a query whose cost
    would overrun ``time_budget_s`` is not charged and returns None: the search must stop.
    """

    bench: Nb201Benchmark
    signal: str
    time_column: str
    time_scale: float
    time_budget_s: float
    num_queries: int = 0
    simulated_time_s: float = 0.0
    seen: set[int] = field(default_factory=set)

    def cost(self, arch: Nb201Arch) -> float:
        return float(self.bench.columns[self.time_column][arch_code(arch)]) * self.time_scale

    def fits(self, arch: Nb201Arch) -> bool:
        """Whether querying ``arch`` now stays within the budget (nothing is charged)."""
        return self.simulated_time_s + self.cost(arch) <= self.time_budget_s

    def query(self, arch: Nb201Arch, enforce_budget: bool = True) -> float | None:
        if enforce_budget and not self.fits(arch):
            return None
        code = arch_code(arch)
        self.num_queries += 1
        self.simulated_time_s += self.cost(arch)
        self.seen.add(code)
        return float(self.bench.columns[self.signal][code])
