"""The official-file converter, against a stand-in of the official API built from the real
table: converting it must give back a table the benchmark reads with the same values."""

import math

import pandas as pd
import pytest

from common.benchmarks import nb201_official
from common.benchmarks.nb201 import Nb201Benchmark
from common.errors import NasReproError
from common.spaces.nb201.arch import Nb201Arch


class FakeNatsApi:
    """Mimics nats_bench's TSS API (``get_more_info(index, dataset, hp=, is_random=)``)."""

    def __init__(self, df: pd.DataFrame):
        self.rows = df.to_dict("records")

    def __len__(self):
        return len(self.rows)

    def arch(self, index):
        return self.rows[index]["arch"]

    def get_more_info(self, index, dataset, iepoch=None, hp="12", is_random=True):
        assert is_random is False  # the table reports seed means
        suffix = "_12ep" if hp == "12" else ""
        r = self.rows[index]
        name = {"cifar10-valid": "cifar10", "cifar10": "cifar10", "cifar100": "cifar100"}.get(
            dataset, "imagenet16"
        )
        if dataset == "cifar10-valid":
            return {
                "valid-accuracy": r["cifar10_valid" + suffix],
                "test-accuracy": r["cifar10valid_test"] if hp == "200" else math.nan,
                "train-all-time": r["cifar10valid_train_time_s"],
            }
        if dataset == "cifar10":
            return {"test-accuracy": r["cifar10_test" + suffix]}
        return {
            "valid-accuracy": r[f"{name}_valid{suffix}"],
            "test-accuracy": r[f"{name}_test{suffix}"],
        }

    def get_cost_info(self, index, dataset):
        col = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16"}[
            dataset
        ]
        return {"params": self.rows[index][f"params_m_{col}"]}


def test_conversion_round_trip(tmp_path, nb201_table, monkeypatch):
    df = pd.read_csv(nb201_table)
    monkeypatch.setattr(nb201_official, "open_official", lambda path: FakeNatsApi(df))
    out = nb201_official.convert("unused", tmp_path / "converted.csv.gz")
    bench = Nb201Benchmark.from_csv(out, sha256=None)
    for row in df.sample(100, random_state=1).itertuples():
        arch = Nb201Arch.parse(row.arch)
        assert bench.value(arch, "cifar10_test") == pytest.approx(row.cifar10_test, abs=1e-6)
        assert bench.value(arch, "cifar100_test_12ep") == pytest.approx(
            row.cifar100_test_12ep, abs=1e-6
        )
        assert bench.value(arch, "params_m_imagenet16") == pytest.approx(row.params_m_imagenet16)


def test_missing_official_file(tmp_path):
    with pytest.raises(NasReproError, match="official NAS-Bench-201 file not found"):
        nb201_official.open_official(tmp_path / "NATS-tss-v1_0-3ffb9-simple")
