"""The reduced ENAS micro retrain on its own: the found cell read from a search's run record or
genotype file, and the uniform random micro cell it is compared with."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import reproductions.enas.micro_stages as stages
from common.cli import CONF_DIR
from common.controllers.micro_policy import MICRO_OPS
from common.errors import NasReproError
from common.spaces.darts.genotype import Genotype

RESULTS = CONF_DIR.parent / "results"
MICRO = RESULTS / "enas" / "enas_darts-space_cifar10-jpeg_search_reduced__seed0.json"


def test_the_found_cell_comes_from_the_record_or_its_genotype_file(tmp_path):
    rec = json.loads(MICRO.read_text())
    genotype, source = stages.found_cell(str(MICRO), 5)
    assert str(genotype) == rec["protocol"]["found"]
    assert source["search"] == "enas_darts-space_cifar10-jpeg_search_reduced"
    genotype.save(tmp_path / "genotype.json")
    again, source = stages.found_cell(str(tmp_path / "genotype.json"), 5)
    assert again == genotype and source == {"genotype_file": str(tmp_path / "genotype.json")}
    macro = RESULTS / "enas" / "enas_macro-space_cifar10-jpeg_search_reduced__seed0.json"
    with pytest.raises(NasReproError, match="found no DARTS-space cell"):
        stages.found_cell(str(macro), 5)
    nasnet = RESULTS / "nasnet" / "nasnet_nasnet-space_cifar10-jpeg_reduced__seed0.json"
    with pytest.raises(NasReproError, match="not an ENAS micro search"):
        stages.found_cell(str(nasnet), 5)


def test_random_cells_are_uniform_seeded_and_valid():
    cells = [stages.random_cell(random.Random(s)) for s in range(400)]
    assert stages.random_cell(random.Random(7)) == cells[7] != cells[8]
    ops, inputs = Counter(), Counter()
    for cell in cells:
        cell.validate(steps=5)
        for kind in ("normal", "reduce"):
            entries = getattr(cell, kind)
            ops.update(op for op, _ in entries)
            inputs.update(i for k, (_, i) in enumerate(entries) if k // 2 == 4)  # last node
    assert set(ops) == set(MICRO_OPS)
    assert all(abs(n / (400 * 20) - 1 / 5) < 0.02 for n in ops.values())
    # the last node picks each of its 6 earlier states alike
    assert set(inputs) == set(range(6))
    assert all(abs(n / (400 * 4) - 1 / 6) < 0.04 for n in inputs.values())


@pytest.mark.parametrize(
    "experiment",
    [
        "enas_darts-space_cifar10-jpeg_retrain_reduced",
        "enas_darts-space_cifar10-jpeg_random_retrain_reduced",
    ],
)
def test_each_experiment_trains_its_cell_with_the_pipelines_schedule(experiment, monkeypatch):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={experiment}", "seed=3"])
        pipeline = compose(
            config_name="config",
            overrides=["experiment=enas_darts-space_cifar10-jpeg_search_reduced"],
        )
    # the same retrain as the search+retrain pipeline's
    assert OmegaConf.to_container(cfg.retrain) == OmegaConf.to_container(pipeline.retrain)
    if cfg.genotype:
        cfg.genotype = str(CONF_DIR.parent / cfg.genotype)
    trained = {}

    def fake_train(cfg, logger, genotype, epochs, seed, test):
        trained.update(genotype=genotype, epochs=epochs, seed=seed)
        return {"test_acc": 50.0, "val_acc": float("nan"), "params_m": 0.1, "data_variant": "x"}

    monkeypatch.setattr(stages, "train_genotype", fake_train)
    out = stages.retrain_cell(cfg, logger=None)
    assert trained["epochs"] == 15 and trained["seed"] == 3
    expected = (
        stages.random_cell(random.Random(3))
        if cfg.random_cell
        else Genotype.parse(json.loads(MICRO.read_text())["protocol"]["found"], steps=5)
    )
    assert trained["genotype"] == expected
    assert out.protocol["genotype"] == str(expected)
    assert out.metrics == {"test_acc": [50.0], "test_error": [50.0]}
