"""Shared fixtures: the real data folder that sits beside the repository (../shared/data).

CI runs in a fresh clone with ``shared/`` next to it; where the folder is absent, tests that
need it are skipped, never failed. Files are checked against ``SHA256SUMS`` before use, as
shared/data/README.md asks.
"""

import hashlib
import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def script() -> Callable[[str], object]:
    """``script(name)``: ``scripts/<name>.py`` imported as a module (scripts are not a package)."""

    def load(name: str) -> object:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    return load


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real-data folder; skips the test when it is not there."""
    if not (SHARED_DATA / "SHA256SUMS").is_file():
        pytest.skip(f"shared data folder not found at {SHARED_DATA.resolve()}")
    return SHARED_DATA.resolve()


@pytest.fixture(scope="session")
def shared_file(shared_data: Path) -> Callable[[str], Path]:
    """``shared_file(name)``: the path of a shared file whose checksum matches SHA256SUMS."""
    sums = {}
    for line in (shared_data / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    verified: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in verified:
            path = shared_data / name
            if not path.is_file():
                pytest.skip(f"shared data file {path} not found")
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert digest == sums.get(name), f"{path} does not match SHA256SUMS"
            verified[name] = path
        return verified[name]

    return get


@pytest.fixture(scope="session")
def nb201_table(shared_file: Callable[[str], Path]) -> Path:
    return shared_file("nb201.csv.gz")


@pytest.fixture(scope="session")
def nb201_bench(nb201_table: Path):
    """The real NAS-Bench-201 table (all 15,625 architectures), loaded once per session."""
    from common.benchmarks.nb201 import Nb201Benchmark

    return Nb201Benchmark.from_csv(nb201_table)
