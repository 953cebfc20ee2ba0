"""ENAS's final macro training of a searched arc: the arc read from a search's run record, the
network built at the arc's depth, and the uniform random arc it is compared with."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

import reproductions.enas.final_stages as final_stages
from common.cli import CONF_DIR
from common.errors import NasReproError
from common.supernets.enas_macro import MACRO_OPS, split_macro_arc
from reproductions.enas.macro_search import MacroArc

RESULTS = CONF_DIR.parent / "results" / "enas"
RECORD = RESULTS / "enas_macro-space_cifar10-jpeg_search_reduced__seed0.json"


def test_a_search_record_gives_its_found_arc_and_depth(tmp_path):
    rec = json.loads(RECORD.read_text())
    arc = MacroArc.load(RECORD)
    assert arc.num_layers == rec["protocol"]["search_network"]["num_layers"] == 6
    assert str(arc) == rec["protocol"]["found"]
    arc.save(tmp_path / "arc.json")  # the run folder's file gives the same arc
    assert MacroArc.load(tmp_path / "arc.json") == arc
    micro = RESULTS / "enas_darts-space_cifar10-jpeg_search_reduced__seed0.json"
    with pytest.raises(NasReproError, match="not an ENAS macro arc file or macro search record"):
        MacroArc.load(micro)
    broken = dict(rec, protocol={"found": "0 1"})
    (tmp_path / "r.json").write_text(json.dumps(broken))
    with pytest.raises(NasReproError, match="macro search record"):
        MacroArc.load(tmp_path / "r.json")


def test_random_arcs_are_uniform_and_seeded():
    arcs = [MacroArc.sample(6, random.Random(s)) for s in range(600)]
    assert MacroArc.sample(6, random.Random(3)) == arcs[3] != arcs[4]
    layers = [split_macro_arc(a.row, 6) for a in arcs]
    ops = Counter(op for arc in layers for op, _ in arc)
    assert set(ops) == set(range(len(MACRO_OPS)))
    assert all(abs(n / 3600 - 1 / 6) < 0.03 for n in ops.values())
    skips = [b for arc in layers for _, bits in arc for b in bits]
    assert len(skips) == 600 * 15 and abs(sum(skips) / len(skips) - 0.5) < 0.03


@pytest.mark.parametrize(
    "experiment, layers",
    [
        ("enas_macro-space_cifar10-jpeg_final_reduced", 6),  # the record's arc, its depth
        ("enas_macro-space_cifar10-jpeg_random_final_reduced", 6),
    ],
)
def test_the_final_network_is_built_from_the_arc(experiment, layers, monkeypatch):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={experiment}"])
    cfg.arc = str(CONF_DIR.parent / cfg.arc) if cfg.arc != "random" else cfg.arc
    built = {}

    def fake_fit(module, data, trainer, epochs, logger, test):
        built["net"] = module.net
        return {"test/acc": 10.0}

    monkeypatch.setattr(final_stages, "fit", fake_fit)
    monkeypatch.setattr(final_stages, "instantiate", _instantiate_without_data)
    result = final_stages.train_final(cfg, logger=None)
    net, network = built["net"], result.protocol["network"]
    assert network["num_layers"] == layers == len(net.layers)
    expected = (
        MacroArc.sample(layers, random.Random(cfg.seed))
        if cfg.arc == "random"
        else MacroArc.load(Path(cfg.arc))
    )
    assert network["arc"] == list(expected.row)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


class _Data:
    num_classes, data_variant = 10, "test"


def _instantiate_without_data(node, **kwargs):
    """The data module needs the dataset on disk; the network is built for real."""
    from hydra.utils import instantiate

    if str(node.get("_target_", "")).endswith("DataModule"):
        return _Data()
    return instantiate(node, **kwargs)


def test_an_arc_for_the_micro_network_is_one_clear_error():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=["experiment=enas_micro-space_cifar10_final", f"arc={RECORD}"],
        )
    with pytest.raises(NasReproError, match="only ENAS's final macro network takes an arc"):
        final_stages.train_final(cfg, logger=None)
