"""Published records validate, the leaderboard is current and computes what it claims,
CITATION.cff is valid CFF listing every reproduced paper, and BibTeX prints."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from common.errors import NasReproError
from common.results import leaderboard, published, record
from common.results.cite import main as cite_main
from common.results.cite import paper_bibtex, repository_bibtex
from common.results.record import withdraw_record, write_json_atomic

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("paper", published.list_papers())
def test_published_records_validate(paper):
    rec = published.load_published(paper)
    assert rec["results"], paper
    for res in rec["results"]:
        assert res["source"] in rec.get("sources", {}) or res["source"] == rec["paper"]["key"]


def test_validator_rejects_unsourced_numbers():
    rec = published.load_published("regularized_evolution")
    del rec["results"][0]["where"]
    with pytest.raises(NasReproError, match="lacks \\['where'\\]"):
        published.validate(rec)


def test_leaderboard_and_readme_results_are_current():
    text, _ = leaderboard.render(REPO / "results")
    assert (REPO / "LEADERBOARD.md").read_text() == text, "run nasrepro-leaderboard"
    for path, new in leaderboard.readme_updates(REPO / "results").items():
        assert path.read_text() == new, f"{path} results block is stale: run nasrepro-leaderboard"


def _record(exp, values, seed=0):
    return {
        "schema": 1,
        "experiment": exp,
        "paper": "regularized_evolution",
        "stage": "search",
        "scale": "paper",
        "seed": seed,
        "data_variant": "test",
        "metrics": {"cifar10_test": values},
        "protocol": {"num_searches": len(values)},
        "diagnostics": {},
        "cost": {"wall_clock_s": 1.0},
        "device": "cpu",
        "git_commit": "abc",
        "config": {},
    }


def test_band_and_aggregation_across_seed_records(tmp_path):
    exp = "regularized-evolution_nb201_cifar10"  # published 93.92 +- 0.30
    write_json_atomic(tmp_path / "a.json", _record(exp, [93.0, 93.2], seed=0))
    write_json_atomic(tmp_path / "b.json", _record(exp, [93.4], seed=1))
    text, _ = leaderboard.render(tmp_path)
    section = text[text.index(f"`nasrepro experiment={exp}`") :]
    row = next(line for line in section.splitlines() if line.startswith("| CIFAR-10 test"))
    # mean of 93.0, 93.2, 93.4 = 93.2 (n=3), population std 0.163; diff -0.72 > 0.30: outside
    assert "93.20 ± 0.16 (n=3)" in row and "-0.72" in row and "**no**" in row
    assert "seed 0,1" in text


def test_a_truncated_run_is_flagged_and_never_a_result(tmp_path):
    exp = "regularized-evolution_nb201_cifar10"
    rec = {**_record(exp, [93.0], seed=0), "truncated_by": ["trainer.max_steps"]}
    assert "TRUNCATED by trainer.max_steps" in leaderboard.format_run_rows(rec)
    write_json_atomic(tmp_path / "a.json", rec)
    with pytest.raises(NasReproError, match="cut short by trainer.max_steps"):
        leaderboard.render(tmp_path)


def test_a_withdrawn_record_is_listed_with_its_reason_and_pooled_nowhere(tmp_path):
    exp = "regularized-evolution_nb201_cifar10"
    write_json_atomic(tmp_path / "a.json", _record(exp, [93.0], seed=0))
    write_json_atomic(tmp_path / "b.json", _record(exp, [80.0], seed=1))
    withdraw_record(tmp_path / "b.json", "computed with a broken kernel")
    text, _ = leaderboard.render(tmp_path)
    section = text[text.index(f"`nasrepro experiment={exp}`") :]
    row = next(line for line in section.splitlines() if line.startswith("| CIFAR-10 test"))
    assert "93.00 ± 0.00 (n=1)" in row  # seed 1's 80.0 left out
    gone = text[text.index("## Withdrawn records") :]
    assert f"| `{exp}` | 1 | cpu |" in gone and "computed with a broken kernel" in gone
    assert json.loads((tmp_path / "b.json").read_text())["metrics"]["cifar10_test"] == [80.0]
    with pytest.raises(NasReproError, match="needs a reason"):
        withdraw_record(tmp_path / "a.json", " ")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    with pytest.raises(TypeError):
        write_json_atomic(
            tmp_path / "r.json", {"bad": object.__new__(type("X", (), {"__str__": None}))}
        )
    assert list(tmp_path.iterdir()) == []


def test_cpu_model_is_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    block = "processor\t: {}\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n\n"
    info.write_text(block.format(0) + block.format(1))
    assert record.cpu_model(info) == "AMD EPYC 7B13"
    # aarch64 kernels print no model name
    info.write_text("processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n")
    assert record.cpu_model(info) is None
    assert record.cpu_model(tmp_path / "absent") is None


def test_cpu_device_description_names_the_model_and_threads(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(record, "cpu_model", lambda: "AMD EPYC 7B13")
    monkeypatch.setattr(record.platform, "processor", lambda: "x86_64")
    monkeypatch.setattr(record.os, "cpu_count", lambda: 16)
    threads = torch.get_num_threads()
    assert (
        record.device_description() == f"cpu: AMD EPYC 7B13 (x86_64), {threads} threads (16 CPUs)"
    )
    monkeypatch.setattr(record, "cpu_model", lambda: None)
    assert record.device_description() == f"cpu: x86_64, {threads} threads (16 CPUs)"


def test_citation_cff_is_valid_and_lists_every_paper():
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "cffconvert"),
            "--validate",
            "-i",
            str(REPO / "CITATION.cff"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    titles = {ref["title"] for ref in cff["references"]}
    for paper in published.list_papers():
        rec = published.load_published(paper)
        assert rec["paper"]["title"] in titles, f"CITATION.cff lacks {paper}"
        for source in rec.get("sources", {}).values():
            assert source["title"] in titles


def test_bibtex(capsys):
    assert repository_bibtex().startswith("@software{nasrepro,")
    bib = paper_bibtex("regularized_evolution")
    assert "@inproceedings{real2019regularized" in bib and "dong2020nasbench201" in bib
    assert cite_main(["no_such_paper"]) == 2
    assert "unknown paper 'no_such_paper'; valid: all," in capsys.readouterr().err


def test_records_are_complete():
    for path in (REPO / "results").rglob("*.json"):
        rec = json.loads(path.read_text())
        for key in (
            "metrics",
            "config",
            "seed",
            "git_commit",
            "packages",
            "scale",
            "data_variant",
            "protocol",
            "cost",
            "device",
        ):
            assert key in rec, (path, key)
        # None only for runs made outside a git checkout (e.g. a copy sent to a GPU machine);
        # the leaderboard then says "commit unknown"
        assert rec["git_commit"] is None or len(rec["git_commit"]) == 40
        assert {"wall_clock_s", "peak_rss_mb"} <= set(rec["cost"])


def test_speed_options_a_run_used_are_stated_beside_its_cost(tmp_path):
    exp = "regularized-evolution_nb201_cifar10"
    default, fast = _record(exp, [93.0], seed=0), _record(exp, [93.2], seed=1)
    fast["cost"]["speed"] = {
        "memory_format": "channels_last",
        "compile": False,
        "precision": "bf16",
    }
    write_json_atomic(tmp_path / "a.json", default)
    text, _ = leaderboard.render(tmp_path)
    assert "channels_last" not in text  # a record without speed options ran with the defaults
    write_json_atomic(tmp_path / "b.json", fast)
    text, _ = leaderboard.render(tmp_path)
    assert "(channels_last, bf16)" in text
