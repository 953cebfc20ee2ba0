"""The NAS-Bench-Macro table API: lookups match the raw file, budget accounting, the config
loads it, bad files fail in one line."""

import json
import random

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from common.benchmarks.nb_macro import OFFICIAL_SHA256, NbMacroBenchmark
from common.cli import CONF_DIR
from common.errors import NasReproError
from common.spaces.nb_macro.arch import MacroArch, all_archs

NAME = "nas-bench-macro_cifar10.json"


@pytest.fixture(scope="module")
def macro_file(shared_file):
    return shared_file(NAME)


@pytest.fixture(scope="module")
def bench(macro_file):
    return NbMacroBenchmark.from_json(macro_file)


def test_lookup_matches_the_raw_file(bench, macro_file):
    raw = json.loads(macro_file.read_text())
    for arch in random.Random(0).sample(list(all_archs()), 300):
        entry = raw[str(arch)]
        assert bench.test_accs(arch) == tuple(entry["test_acc"])
        for column in ("mean_acc", "std", "params", "flops"):
            assert bench.value(arch, column) == entry[column], column


def test_published_spot_checks(bench):
    # research notes section 6: best 22212220 = 93.13, accuracy 45.36-93.13, params 0.39-2.93M
    best = MacroArch.parse("22212220")
    assert bench.value(best, "mean_acc") == pytest.approx(93.13, abs=5e-3)
    assert bench.columns["mean_acc"].max() == bench.value(best, "mean_acc")
    assert bench.value(MacroArch.parse("00000000"), "mean_acc") == pytest.approx(45.36, abs=5e-3)
    assert bench.columns["params"].max() == pytest.approx(2.93e6, rel=2e-3)


def test_session_counts_queries_and_enforces_the_budget(bench):
    a, b = MacroArch.parse("22212220"), MacroArch.parse("22212202")  # one network, two codes
    s = bench.session("test_acc_seed1", budget_queries=2)
    assert s.query(a) == bench.test_accs(a)[1]
    assert s.query(b) == s.query(a, enforce_budget=False)  # a repeat is charged too
    assert s.query(a) is None  # over budget: not charged
    assert s.num_queries == 3 and s.seen == {"22212220"}
    with pytest.raises(NasReproError, match="search signal 'params'; valid: mean_acc"):
        bench.session("params")


def test_unknown_column_lists_choices(bench):
    with pytest.raises(NasReproError, match="column 'mean'; valid: flops, mean_acc, params"):
        bench.value(MacroArch.parse("00000000"), "mean")


def test_missing_file_says_where_to_get_it(tmp_path):
    with pytest.raises(NasReproError, match=f"not found at .*{NAME}; download .*xiusu"):
        NbMacroBenchmark.from_json(tmp_path / NAME)


def test_a_corrupt_or_malformed_file_fails_in_one_line(tmp_path):
    path = tmp_path / NAME
    path.write_text(json.dumps({"22212220": {}}))
    with pytest.raises(NasReproError, match="corrupt or another version: sha256"):
        NbMacroBenchmark.from_json(path)
    with pytest.raises(NasReproError, match="has 1 entries, not 6561"):
        NbMacroBenchmark.from_json(path, sha256=None)
    path.write_text("{")
    with pytest.raises(NasReproError, match="cannot read NAS-Bench-Macro file"):
        NbMacroBenchmark.from_json(path, sha256=None)


def test_the_config_loads_the_file(macro_file):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=["benchmark=nb_macro", f"data_root={macro_file.parent}"],
        )
    assert cfg.benchmark.sha256 == OFFICIAL_SHA256
    bench = instantiate(cfg.benchmark)
    assert bench.variant == "nas-bench-macro-cifar10" and bench.source == str(macro_file)
