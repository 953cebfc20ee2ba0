"""The NB-201 table API: lookups match the raw file, budget accounting, bad files fail in one line."""

import gzip
import shutil

import pandas as pd
import pytest

from common.benchmarks.nb201 import (
    COMPACT_TABLE_SHA256,
    EMBEDDED_TABLE,
    Nb201Benchmark,
    arch_code,
    sha256_of,
)
from common.errors import NasReproError
from common.spaces.nb201.arch import Nb201Arch, all_archs


def test_codes_follow_the_enumeration():
    assert [arch_code(a) for a in list(all_archs())[:50]] == list(range(50))


def test_lookup_matches_the_raw_table(nb201_bench, nb201_table):
    df = pd.read_csv(nb201_table).sample(200, random_state=0)
    for row in df.itertuples():
        arch = Nb201Arch.parse(row.arch)
        assert nb201_bench.index_of(arch) == row.index
        assert nb201_bench.value(arch, "cifar10_test") == pytest.approx(row.cifar10_test)
        assert nb201_bench.value(arch, "imagenet16_test") == pytest.approx(row.imagenet16_test)


def test_published_spot_checks(nb201_bench):
    # data README: column maxima = the NB-201 paper's "optimal" row; the all-skip cell (where
    # first-order DARTS collapses) = the DARTS-V1 row
    assert nb201_bench.columns["cifar10_test"].max() == pytest.approx(94.37, abs=5e-3)
    assert nb201_bench.columns["cifar100_test"].max() == pytest.approx(73.51, abs=5e-3)
    assert nb201_bench.columns["imagenet16_test"].max() == pytest.approx(47.31, abs=5e-3)
    skip = Nb201Arch(("skip_connect",) * 6)
    assert nb201_bench.index_of(skip) == 1835
    assert nb201_bench.value(skip, "cifar10_test") == pytest.approx(54.30, abs=5e-3)


def test_session_counts_queries_and_enforces_the_budget(nb201_bench):
    arch = Nb201Arch(("nor_conv_3x3",) * 6)
    cost = nb201_bench.value(arch, "cifar10valid_train_time_s") * 0.06
    s = nb201_bench.session("cifar10_valid_12ep", "cifar10valid_train_time_s", 0.06, 2.5 * cost)
    assert s.query(arch) == pytest.approx(nb201_bench.value(arch, "cifar10_valid_12ep"))
    assert s.query(arch) is not None
    assert s.query(arch) is None  # a third would overrun 2.5 x cost: not charged
    assert s.num_queries == 2 and s.simulated_time_s == pytest.approx(2 * cost)
    assert s.query(arch, enforce_budget=False) is not None
    assert s.num_queries == 3


def test_unknown_column_lists_choices(nb201_bench):
    with pytest.raises(
        NasReproError, match="unknown NB-201 column 'cifar10_tset'; valid: .*cifar10_test"
    ):
        nb201_bench.value(Nb201Arch(("none",) * 6), "cifar10_tset")


def test_missing_file_says_where_to_get_it(tmp_path):
    with pytest.raises(NasReproError, match="not found at .*nb201_convert.py"):
        Nb201Benchmark.from_csv(tmp_path / "nb201.csv.gz")


def test_embedded_table_is_the_compact_table(nb201_table):
    # the copy shipped in the package is byte for byte the shared compact table
    assert sha256_of(EMBEDDED_TABLE) == COMPACT_TABLE_SHA256 == sha256_of(nb201_table)
    assert (EMBEDDED_TABLE.parent / "README.md").read_text().count("MIT") >= 2  # licence note


def test_missing_file_falls_back_to_the_embedded_table_only_when_asked(tmp_path, caplog):
    missing = tmp_path / "nb201.csv.gz"
    with caplog.at_level("INFO", logger="common.benchmarks.nb201"):
        bench = Nb201Benchmark.from_csv(missing, fallback_to_embedded=True)
    assert bench.source == str(EMBEDDED_TABLE) and "embedded copy" in caplog.text
    skip = Nb201Arch(("skip_connect",) * 6)
    assert bench.value(skip, "cifar10_test") == pytest.approx(54.30, abs=5e-3)
    # a table the user converted (own checksum) is never silently replaced
    with pytest.raises(NasReproError, match="not found at"):
        Nb201Benchmark.from_csv(missing, sha256=None, fallback_to_embedded=True)


def test_checksum_mismatch_is_refused(tmp_path, nb201_table):
    bad = tmp_path / "nb201.csv.gz"
    with gzip.open(nb201_table, "rt") as src, gzip.open(bad, "wt") as dst:
        lines = src.readlines()
        dst.writelines(lines[:-1])  # one architecture short
    with pytest.raises(NasReproError, match="corrupt or another version"):
        Nb201Benchmark.from_csv(bad)
    with pytest.raises(NasReproError, match="has 15624 rows"):
        Nb201Benchmark.from_csv(bad, sha256=None)


def test_truncated_gzip_is_one_line(tmp_path, nb201_table):
    bad = tmp_path / "nb201.csv.gz"
    shutil.copy(nb201_table, bad)
    bad.write_bytes(bad.read_bytes()[:5000])
    with pytest.raises(NasReproError, match="cannot read NAS-Bench-201 table"):
        Nb201Benchmark.from_csv(bad, sha256=None)
