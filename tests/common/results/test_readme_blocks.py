"""Generated README blocks: number wording, run notes, per-run rows, cost groups and splicing,
on small hand-made records whose numbers can be checked by hand."""

import pytest

from common.errors import NasReproError
from common.results import prose
from common.results.readme_blocks import splice
from common.results.run_notes import RunNotes
from common.results.run_tables import cost_groups, device_host, threads_label, where

EPYC = "cpu: AMD EPYC (x86_64), 1 threads (2 CPUs)"
XEON = "cpu: Intel(R) Xeon(R) Processor (x86_64), 1 threads (2 CPUs)"


def rec(seed, wall, device=EPYC, commit="bbbbbbbb", nhwc=True, runs=1, exp="e"):
    return {
        "experiment": exp,
        "seed": seed,
        "device": device,
        "git_commit": commit,
        "metrics": {"cifar10_test": [93.0] * runs},
        "protocol": {"settings": {"channels_last_on_cpu": nhwc}},
        "cost": {"wall_clock_s": wall, "search_s_per_run": {"mean": wall / runs}},
    }


NOTES = {
    "kernel_product": {"float32": ["aaaaaaaa"], "int8": ["bbbbbbbb"]},
    "hosts": {"Intel Xeon": "AVX-512"},
    "experiments": {
        "e": {
            "default": {"shared": "another seed on the other core"},
            "runs": {
                0: {"shared": None},
                "2-3": {"also": "for part of it, tests", "load": ["tests"]},
                4: {
                    "in_cost_table": False,
                    "also": "for part of it, a replay",
                    "load": ["a replay"],
                },
                5: {
                    "in_cost_range": False,
                    "also": "for a while, profiling",
                    "load": ["profiling"],
                },
                6: {"alone_from_s": 100},
                7: {"host": "AMD EPYC", "host_note": "ran before records named it"},
            },
        }
    },
}


def test_number_wording():
    assert prose.secs(1024.2) == "1,024" and prose.span(813.8, 1024.2) == "814-1,024"
    assert prose.per_search(9.31) == "9.3" and prose.per_search(87.3) == "87"
    assert prose.seed_runs([7, 1, 2, 3, 9, 10]) == ["1-3", "7", "9-10"]
    assert prose.seeds_phrase([136, 137, 204, 205, 218]) == "136-137, 204-205 and 218"
    assert prose.and_list(["tests", "a replay"], "or") == "tests or a replay"
    assert prose.seeds_label([5]) == "seed 5" and prose.seeds_label([5, 6]) == "seeds 5-6"
    # 389 / 895 = 0.43 -> 1/2; 0.30 -> 1/3; 0.12 -> 1/8
    assert [prose.fraction_words(x) for x in (0.43, 0.30, 0.12)] == ["half", "a third", "an eighth"]
    with pytest.raises(ValueError):
        prose.fraction_words(0.9)


def test_run_notes_ranges_defaults_and_checks():
    notes = RunNotes(NOTES)
    assert notes.shared("e", 1) == "another seed on the other core"  # the default
    assert notes.shared("e", 0) is None
    assert notes.shared("e", 3) == "another seed on the other core and, for part of it, tests"
    assert notes.run("e", 2)["load"] == ["tests"]
    assert notes.kernel_product(rec(1, 1.0, commit="aaaaaaaa")) == "float32"
    with_field = {**rec(1, 1.0, commit="cccccccc"), "protocol": {"kernel_product": "int8"}}
    assert notes.kernel_product(with_field) == "int8"  # a record's own field wins
    with pytest.raises(NasReproError, match="no kernel_product for commit cccccccc"):
        notes.kernel_product(rec(1, 1.0, commit="cccccccc"))
    with pytest.raises(NasReproError, match=r"seeds \[7\], which have no record"):
        notes.check_seeds("e", set(range(7)))
    overlap = {"experiments": {"e": {"runs": {"1-3": {}, 3: {}}}}}
    with pytest.raises(NasReproError, match="seed 3 is named by two keys"):
        RunNotes(overlap)
    with pytest.raises(NasReproError, match="needs its `load`"):
        RunNotes({"experiments": {"e": {"runs": {1: {"also": "tests"}}}}})
    with pytest.raises(NasReproError, match="unknown fields"):
        RunNotes({"experiments": {"e": {"runs": {1: {"share": "x"}}}}})
    with pytest.raises(NasReproError, match="neither a seed nor a range"):
        RunNotes({"experiments": {"e": {"runs": {"5-2": {}}}}})


def test_where_cell_from_record_and_notes():
    notes = RunNotes(NOTES)
    assert device_host(rec(0, 1.0, device=XEON)) == "Intel Xeon"
    assert device_host(rec(0, 1.0, device="cpu: x86_64, 1 threads")) is None
    row = where(rec(3, 278.6, device=XEON), notes)
    assert row == (
        "1 CPU thread (Intel Xeon host), NHWC, int8 K product,"
        " another seed on the other core and, for part of it, tests, 279 s"
    )
    old = rec(0, 1000.6, device="cpu: x86_64, 1 threads", commit="aaaaaaaa", nhwc=None)
    assert where(old, notes) == "1 CPU thread, NCHW, 1,001 s"
    # the notes name the host of seed 7, whose record does not
    assert where(rec(7, 400.0, device="cpu: x86_64, 1 threads"), notes).startswith(
        "1 CPU thread (AMD EPYC host), NHWC, int8"
    )
    gpu = rec(1, 155.9, device="cuda: NVIDIA H100 80GB HBM3 x1", commit=None, runs=20)
    gpu["cost"]["search_s_per_run"]["mean"] = 7.7
    assert threads_label(gpu) == "H100"
    assert where(gpu, notes) == "H100, another seed on the other core, 156 s (7.7 s per search)"


def test_cost_groups_leave_out_what_the_notes_say():
    notes = RunNotes(NOTES)
    walls = {1: 800.0, 2: 900.0, 3: 300.0, 4: 250.0, 5: 500.0, 6: 390.0, 7: 400.0, 8: 360.0}
    commits = {1: "aaaaaaaa", 2: "aaaaaaaa"}
    hosts = {1: "cpu: x86_64, 1 threads", 2: "cpu: x86_64, 1 threads", 6: XEON, 8: XEON}
    recs = [rec(s, w, hosts.get(s, EPYC), commits.get(s, "bbbbbbbb")) for s, w in walls.items()]
    groups = cost_groups(recs, notes)
    assert [(g.host, g.kernel, g.seeds) for g in groups] == [
        (None, "float32", [1, 2]),  # seeds 2-3 shared the host with tests: kept in range
        ("AMD EPYC", "int8", [3, 5, 7]),  # 4 is out of the table
        ("Intel Xeon", "int8", [6, 8]),
    ]
    assert groups[0].bounds() == (800.0, 900.0) and groups[0].wall().mean() == 850.0
    epyc, xeon = groups[1], groups[2]
    assert [r["seed"] for r in epyc.out_of_range] == [5]  # 500 s left out of 300-400
    assert epyc.bounds() == (300.0, 400.0) and epyc.wall().mean() == 350.0
    assert [r["seed"] for r in xeon.alone] == [6] and xeon.bounds() == (360.0, 360.0)


def test_splice_replaces_blocks_keeps_indent_and_refuses_strays():
    text = "a\n<!-- generated:x -->\nold\n<!-- /generated:x -->\n- item\n  <!-- generated:y -->\n  old\n  <!-- /generated:y -->\nz\n"
    new = splice(text, {"x": "one\ntwo", "y": "three\n\nfour"})
    assert new == (
        "a\n<!-- generated:x -->\none\ntwo\n<!-- /generated:x -->\n- item\n"
        "  <!-- generated:y -->\n  three\n\n  four\n  <!-- /generated:y -->\nz\n"
    )
    assert splice(new, {"x": "one\ntwo", "y": "three\n\nfour"}) == new
    with pytest.raises(NasReproError, match=r"without a renderer \['y'\]"):
        splice(text, {"x": ""})
    with pytest.raises(NasReproError, match=r"without markers \['w'\]"):
        splice(text, {"x": "", "y": "", "w": ""})
