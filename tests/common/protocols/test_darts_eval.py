"""The shared DARTS-space evaluation protocol on digits with a tiny network: genotype files in,
NB-201 files refused, the selection's brief training scores exactly what a training with the
protocol gives, and a retrain reports test accuracy and error."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from common.errors import NasReproError
from common.protocols import darts_eval
from common.results.logging import RunLogger
from reproductions.darts.models import GENOTYPES  # the published cells (registers them too)

pytest.importorskip("sklearn")
DARTS_V2 = GENOTYPES["DARTS_V2"]


def config(genotype_file: str | None = None):
    return OmegaConf.create(
        {
            "seed": 0,
            "genotype": genotype_file,
            "logger": {"csv": {"enabled": True}, "wandb": {"enabled": False}},
            "trainer": {"accelerator": "cpu", "devices": 1, "limit_train_batches": 2},
            "retrain": {
                "epochs": 1,
                "num_seeds": 1,
                "grad_clip": 5.0,
                "network": {"C": 4, "layers": 3, "auxiliary": False},
                "optim": {"lr": 0.025, "drop_path_prob": 0.2},
                "data": {
                    "_target_": "common.data.digits.DigitsDataModule",
                    "batch_size": 32,
                    "val_fraction": 0.2,
                },
            },
        }
    )


def test_load_genotype_reads_a_genotype_file_and_refuses_an_nb201_cell(tmp_path):
    DARTS_V2.save(tmp_path / "genotype.json")
    assert darts_eval.load_genotype(tmp_path / "genotype.json") == DARTS_V2
    nb201 = tmp_path / "arch.json"
    nb201.write_text(
        json.dumps({"space": "nb201", "arch": "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"})
    )
    with pytest.raises(NasReproError, match="NB-201 cell: its accuracy is a table lookup"):
        darts_eval.load_genotype(nb201)
    with pytest.raises(NasReproError, match="not found"):
        darts_eval.load_genotype(tmp_path / "missing.json")


def test_brief_training_scores_what_the_protocol_trains_and_retrain_reports_test(tmp_path):
    cfg = config()
    logger = RunLogger(cfg, tmp_path, published_refs=[])
    evaluator = darts_eval.brief_training(cfg, logger, epochs=1, seed=5)
    assert evaluator.trainer["gradient_clip_val"] == 5.0  # App. A.2.1 clipping reaches the Trainer
    first = evaluator.evaluate(DARTS_V2)
    direct = darts_eval.train_genotype(cfg, logger, DARTS_V2, epochs=1, seed=5, test=False)
    assert first.score == direct["val_acc"]
    # every candidate of the selection trains with the run's seed (seed_step 0)
    assert evaluator.evaluate(GENOTYPES["DARTS_V1"]).info["seed"] == 5

    DARTS_V2.save(tmp_path / "genotype.json")
    result = darts_eval.retrain(config(str(tmp_path / "genotype.json")), logger)
    (acc,), (err,) = result.metrics["test_acc"], result.metrics["test_error"]
    assert 0.0 <= acc <= 100.0 and acc + err == pytest.approx(100.0)
    assert result.protocol["genotype"] == str(DARTS_V2)
    assert result.cost["params_m"] > 0 and result.data_variant == "sklearn-digits"


@pytest.mark.parametrize(
    "name",
    [
        "darts_darts-space_cifar10_retrain",
        "darts-2nd_darts-space_cifar10_retrain",
        "te-nas_darts-space_cifar10_retrain",
    ],
)
def test_darts_space_retrain_experiments_name_the_shared_protocol(name):
    from hydra import compose, initialize_config_dir

    from common.cli import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={name}"])
    assert cfg.task == "common.protocols.darts_eval.retrain"
    assert (cfg.retrain.epochs, cfg.retrain.network.C, cfg.retrain.network.layers) == (600, 36, 20)
    assert (cfg.retrain.data.batch_size, cfg.retrain.data.cutout) == (96, 16)
