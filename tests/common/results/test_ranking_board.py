"""The leaderboard's supernet ranking section and figures, from synthetic records whose values
can be checked by hand: rows, intervals, pooling over seeds, the published anchors (read from
the published records), one figure per space, and the curve only where a record has no
per-architecture final scores."""

import copy

import pytest
from matplotlib.image import imread

from common.errors import NasReproError
from common.results import figures, leaderboard, published, ranking_board
from common.results.record import load_records, write_json_atomic

NB201_SPOS = "spos_nb201_cifar10-jpeg_reduced"
NB201_FAIR = "fairnas_nb201_cifar10-jpeg_reduced"
MACRO_SPOS = "spos_nb-macro_cifar10-jpeg_reduced"


def _point(epochs, steps, tau, ci, rho=0.7, rho_ci=(0.5, 0.9), top=1.0):
    return {
        "epochs": epochs,
        "path_steps": steps,
        "n": 10,
        "top_fraction": 0.05,
        "level": 0.95,
        "kendall_tau": tau,
        "kendall_tau_ci": list(ci),
        "spearman": rho,
        "spearman_ci": list(rho_ci),
        "p_at_top": top,
        "p_at_top_ci": [0.0, 1.0],
        "mean_score": 50.0,
        "wall_s": 1.0,
    }


def _one_shot(exp, curve, seed=0, anchor=None, final=True, truth="cifar10_test"):
    diag = {"ranking_curve": curve, "ranking_anchor": anchor}
    if final:
        diag["ranking_final_scores"] = {
            "archs": [f"a{i}" for i in range(10)],
            "truth": [80.0 + i for i in range(10)],
            "supernet_score": [40.0 + 2 * i for i in range(10)],
        }
    return {
        "schema": 1,
        "experiment": exp,
        "paper": exp.split("_")[0],
        "stage": "search",
        "scale": "reduced",
        "seed": seed,
        "data_variant": "jpeg copy",
        "metrics": {"ranking_kendall_tau": [curve[-1]["kendall_tau"]]},
        "protocol": {"ranking": {"truth": truth}},
        "diagnostics": diag,
        "cost": {"wall_clock_s": 1.0},
        "device": "cpu",
        "git_commit": "abc",
        "config": {"board": None},
    }


@pytest.fixture
def results(tmp_path):
    anchor = {"name": "released", "kendall_tau": 0.5, "kendall_tau_ci": [0.3, 0.7]}
    spos = [_point(5, 100, 0.2, (-0.1, 0.5)), _point(10, 200, 0.6, (0.4, 0.8))]
    write_json_atomic(tmp_path / "spos" / "a.json", _one_shot(NB201_SPOS, spos, anchor=anchor))
    for seed, tau in ((0, 0.4), (1, 0.8)):  # two seeds, curve only
        rec = _one_shot(NB201_FAIR, [_point(2, 200, tau, (0.0, 1.0))], seed, anchor, final=False)
        write_json_atomic(tmp_path / "fairnas" / f"s{seed}.json", rec)
    macro = [_point(6, 300, 0.3, (0.1, 0.5))]
    rec = _one_shot(MACRO_SPOS, macro, final=False, truth="mean_acc")
    write_json_atomic(tmp_path / "spos" / "m.json", rec)
    return tmp_path


def _section(text):
    return text[text.index("## Supernet ranking quality") : text.index("## Per paper")]


def _row(section, start):
    return next(line for line in section.splitlines() if line.startswith(start))


def test_rows_hold_the_last_point_its_intervals_and_the_same_cells_anchor(results):
    section = _section(leaderboard.render(results)[0])
    assert "rankings by a trained weight-sharing supernet, not accuracies" in section
    row = _row(section, "| spos | nb201 |")
    assert row == (
        "| spos | nb201 | jpeg copy | 10 | 200 | 10 (cifar10_test) | 0.600 [0.40, 0.80]"
        " | 0.700 [0.50, 0.90] | 1.000 [0.00, 1.00] | 0.500 [0.30, 0.70]"
        f" | `{NB201_SPOS}` (1 record, seed 0) |"
    )
    # two seeds pool to mean +- population std: (0.4 + 0.8) / 2 = 0.6, std 0.2
    fair = _row(section, "| fairnas | nb201 |")
    assert "| 0.600 ± 0.200 (n=2) |" in fair and "(2 records, seed 0,1)" in fair
    macro = _row(section, "| spos | nb-macro |")
    assert "| 10 (mean_acc) | 0.300 [0.10, 0.50] |" in macro and macro.endswith(
        f"| — | `{MACRO_SPOS}` (1 record, seed 0) |"
    )


def test_published_anchors_come_from_the_published_records(results):
    section = _section(leaderboard.render(results)[0])
    anchors = section[section.index("Published anchors") :]
    fairnas = published.load_published("fairnas")["results"]
    for res in (r for r in fairnas if r["metric"] == "ranking_kendall_tau"):
        assert f"| {res['dataset']} | fairnas-space | — | — | {res['value']:g} |" in anchors
    spos = {a["metric"]: a["value"] for a in published.load_published("spos")["anchors"]}
    assert spos["ranking_kendall_tau"] == 0.484  # released one-shot supernet, all cells
    row = _row(anchors, "| released one-shot supernet")
    assert "| nb201 | 600 | 15,625 | 0.484 | 0.676 | 0.01 |" in row


def test_one_figure_per_space_linked_deterministic_and_curve_only_without_scores(results):
    text = leaderboard.render(results)[0]
    for space in ("nb201", "nb-macro"):
        assert f"](results/ranking_{space}.png)" in _section(text)
    groups = leaderboard.aggregate(load_records(results))
    paths = figures.write_ranking_figures(groups, results)
    assert paths == figures.figure_paths(groups, results)
    assert [p.name for p in paths] == ["ranking_nb-macro.png", "ranking_nb201.png"]
    first = [p.read_bytes() for p in paths]
    figures.write_ranking_figures(groups, results)
    assert [p.read_bytes() for p in paths] == first  # regenerating changes no byte
    # width (5 + 4 * scatter panels) inches at 100 dpi: nb201 has SPOS's scatter only
    # (FairNAS's records have no final scores), nb-macro the curve alone
    assert imread(results / "ranking_nb201.png").shape[1] == 900
    assert imread(results / "ranking_nb-macro.png").shape[1] == 500
    assert list(figures.scatter_groups(ranking_board.spaces(groups)["nb201"])) == [NB201_SPOS]


def test_no_record_leaves_the_anchors_and_no_figure(tmp_path):
    section = _section(leaderboard.render(tmp_path)[0])
    assert "No canonical supernet ranking record yet." in section
    assert "| released one-shot supernet" in section and "ranking_nb201.png" not in section


def test_enas_rows_show_both_taus(tmp_path):
    rec = _one_shot("enas_nb201_cifar10-jpeg_search_reduced", [_point(1, 1, 0.0, (0, 0))])
    rec["diagnostics"] = {
        "ranking": {
            "num_archs": 20,
            "against": "cifar10_valid",
            "kendall_tau_as_rewarded": 0.25,
            "kendall_tau_bn_recalibrated": 0.5,
        }
    }
    rec["cost"]["search_epochs_run"] = 3
    write_json_atomic(tmp_path / "e.json", rec)
    section = _section(leaderboard.render(tmp_path)[0])
    assert "| enas (as rewarded) | nb201 | jpeg copy | 3 | — | 20 (cifar10_valid) | 0.250 |" in (
        section
    )
    assert "| enas (BN recalibrated) | nb201 |" in section and "| 0.500 |" in section


def test_validator_rejects_an_unsourced_anchor():
    rec = copy.deepcopy(published.load_published("spos"))
    rec["anchors"][0]["source"] = "nowhere"
    with pytest.raises(NasReproError, match="cites unknown source 'nowhere'"):
        published.validate(rec)


def test_nb201_reference_rows_stay_off_the_ranking_anchors():
    """The RSPS row (an accuracy anchor for the NB-201 board) is a board row, never a ranking
    anchor; its published numbers appear as '— / value' cells."""
    refs = leaderboard.nb201_reference_rows()
    (label,) = [k for k in refs if "version A" in k]
    assert refs[label]["cifar10_test"]["value"] == 87.66
    assert all("RSPS" not in a["label"] for a in ranking_board.published_anchors())
    board, _ = leaderboard.nb201_board({})
    assert any(line.startswith(f"| {label} | — / — | — / 87.66 ± 1.69 |") for line in board)
