"""Handing a searched architecture to its retrain: the cell file and the search record both
give back the architecture the search trained (the canonical records of the four reduced
searches included), and every input a retrain cannot use is one error line."""

import json
from pathlib import Path

import pytest

from common.errors import NasReproError
from common.spaces.nasnet import NASNET_SPACE, PNAS_SPACE, Block, Cell
from common.spaces.nasnet.child import arch_key
from common.spaces.nasnet.found import (
    arch_text,
    load_found,
    parse_arch,
    write_cell_file,
)
from common.spaces.nasnet.published import NASNET_A_NORMAL, NASNET_A_REDUCTION, PNASNET_5

REPO = Path(__file__).resolve().parents[4]
SEARCHES = {
    "nasnet_nasnet-space_cifar10-jpeg_reduced": "nasnet",
    "nasnet_nasnet-space_cifar10-jpeg_random_reduced": "nasnet",
    "pnas_pnas-space_cifar10-jpeg_reduced": "pnas",
    "pnas_pnas-space_cifar10-jpeg_random_reduced": "pnas",
}
# a NASNet-space pair with a concat block (twice the channels) and an implicit output
PAIR = (
    Cell(
        (
            Block(0, "conv_1x3_3x1", 1, "identity", "concat"),
            Block(2, "sep_conv_7x7", 0, "max_pool_7x7"),
        )
    ),
    Cell((Block(1, "avg_pool_3x3", 1, "dil_conv_3x3"),)),
)


def record(arch, space: str, found: bool) -> dict:
    """A search record as the runner writes it: ``protocol.found`` (new) or only
    ``diagnostics.best_arch`` (the records written before it)."""
    protocol = {"strategy": "ppo", "space": space, **({"found": arch_text(arch)} if found else {})}
    return {
        "experiment": f"{space}_{space}-space_cifar10-jpeg_reduced",
        "stage": "search",
        "seed": 0,
        "metrics": {"best_val_acc": [41.5]},
        "protocol": protocol,
        "diagnostics": {"best_arch": arch_text(arch)},
    }


@pytest.mark.parametrize(
    ("arch", "space"),
    [
        (PAIR, "nasnet"),
        ((NASNET_A_NORMAL, NASNET_A_REDUCTION), "nasnet"),
        (PNASNET_5, "pnas"),
    ],
)
@pytest.mark.parametrize("kind", ["cell file", "record found", "record best_arch"])
def test_every_input_gives_the_architecture_back(tmp_path, arch, space, kind) -> None:
    if kind == "cell file":
        path = write_cell_file(arch, tmp_path / "cell.json", experiment="x", seed=3)
    else:
        path = tmp_path / "rec.json"
        path.write_text(json.dumps(record(arch, space, found=kind == "record found")))
    got, source = load_found(path, space, space)
    assert arch_key(got) == arch_key(arch) and arch_text(got) == arch_text(arch)
    assert source["genotype"] == str(path)
    if kind == "cell file":
        assert source["kind"] == "cell file" and source["seed"] == 3
    else:
        assert source["experiment"] == f"{space}_{space}-space_cifar10-jpeg_reduced"
        assert source["search_best_val_acc"] == 41.5 and source["strategy"] == "ppo"


@pytest.mark.parametrize("experiment", sorted(SEARCHES))
def test_the_four_reduced_search_records_give_their_best_child(experiment) -> None:
    path = REPO / "results" / experiment.split("_")[0] / f"{experiment}__seed0.json"
    rec = json.loads(path.read_text())
    space = SEARCHES[experiment]
    arch, source = load_found(path, space, space)
    best = max(rec["diagnostics"]["children"], key=lambda c: c["reward"])
    assert arch_text(arch) == best["arch"]
    assert isinstance(arch, Cell) == (space == "pnas")
    assert source["search_best_val_acc"] == best["reward"]
    # every child's text reads back to itself (the format is one both ways)
    for child in rec["diagnostics"]["children"]:
        assert arch_text(parse_arch(child["arch"], space)) == child["arch"]


def test_parsed_cells_keep_their_space() -> None:
    cell = parse_arch("add(sep_conv_3x3~0,identity~1) -> [2]", "pnas")
    assert cell.space == "pnas" and cell.blocks[0].op_a in PNAS_SPACE.ops
    with pytest.raises(NasReproError, match="conv_1x3_3x1"):
        parse_arch("add(conv_1x3_3x1~0,identity~1) -> [2]", "pnas")  # not a PNAS op
    assert "conv_1x3_3x1" in NASNET_SPACE.ops


def _error(path, space: str) -> str:
    with pytest.raises(NasReproError) as e:
        load_found(path, space, space)
    message = str(e.value)
    assert "\n" not in message
    return message


def test_bad_inputs_are_one_line(tmp_path) -> None:
    assert "no such file" in _error(tmp_path / "missing.json", "nasnet")
    (tmp_path / "notes.txt").write_text("normal: ...")
    assert "not JSON" in _error(tmp_path / "notes.txt", "nasnet")
    pnas_rec = tmp_path / "pnas.json"
    pnas_rec.write_text(json.dumps(record(PNASNET_5, "pnas", True)))
    msg = _error(pnas_rec, "nasnet")
    assert "one cell of the pnas space" in msg and "pair of the nasnet space" in msg
    pair_file = write_cell_file(PAIR, tmp_path / "cell.json")
    assert "pair of the nasnet space" in _error(pair_file, "pnas")
    retrain = tmp_path / "retrain.json"
    retrain.write_text(json.dumps({"experiment": "nasnet_x_retrain", "stage": "retrain"}))
    msg = _error(retrain, "nasnet")
    assert "not a NASNet-space search" in msg and "valid:" in msg
    garbled = tmp_path / "garbled.json"
    garbled.write_text(
        json.dumps(
            {
                **record(PAIR, "nasnet", True),
                "protocol": {"space": "nasnet", "found": "normal: add(x) | reduction: y"},
            }
        )
    )
    assert "cannot read a cell" in _error(garbled, "nasnet")
