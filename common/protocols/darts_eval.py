"""The DARTS-space evaluation protocol: train a genotype from scratch with the DARTS schedule
and report its test accuracy (Liu et al., ICLR 2019, Sect. 3.2-3.3, App. A.2.1; authors' code
cnn/train.py @ f276dd3).

Every paper that reports CIFAR-10 test error for a cell of the DARTS space trains it this way
(DARTS Table 1; TE-NAS Table 2 through chenwydj/DARTS_evaluation; ENAS and PC-DARTS cells as
DARTS re-trains them), so experiments name ``common.protocols.darts_eval.retrain`` as their
task and set only their paper and experiment name. The schedule's values live in
``conf/darts/retrain_cifar.yaml`` (600 epochs, 20 cells of 36 channels, auxiliary head 0.4,
drop-path 0.2, cutout 16, batch 96, cosine from 0.025, gradient clip 5).

``cfg.retrain`` holds ``data`` (a data module config), ``network`` (``NetworkCIFAR``
arguments), ``optim`` (``DartsEvalModule`` arguments), ``epochs``, ``num_seeds`` and
``grad_clip`` and, optionally, ``steps``: the nodes per cell of the genotype file (default the
DARTS space's 4; ENAS's micro cells have 5); ``cfg.trainer`` the Trainer arguments. The
genotype comes in as a file (what a search stage wrote), never through memory.
"""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from common.errors import NasReproError
from common.evaluators.brief_training import BriefTrainingEvaluator
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.spaces.darts.genotype import STEPS, Genotype
from common.spaces.darts.model import NetworkCIFAR, count_params_m
from common.speed import Speed
from common.training.darts_eval_module import DartsEvalModule
from common.training.fit import fit

FINAL_METRIC = "test accuracy after the full schedule (last epoch, no test-set selection)"


def load_genotype(path: str | Path, steps: int | None = STEPS) -> Genotype:
    """The DARTS genotype in a genotype file, each cell with ``steps`` nodes (any number with
    None); an NB-201 arch file (``{"space": "nb201"}``) is refused: an NB-201 cell's accuracy
    is a table lookup, not a retrain."""
    p = Path(path)
    if p.is_file() and p.read_text().lstrip().startswith("{"):
        try:
            space = json.loads(p.read_text()).get("space")
        except (json.JSONDecodeError, AttributeError):
            space = None  # Genotype.load names what is wrong with the file
        if space == "nb201":
            raise NasReproError(f"{path} is an NB-201 cell: its accuracy is a table lookup")
    return Genotype.load(p, steps=steps)


def make_module(
    genotype: Genotype,
    data: L.LightningDataModule,
    retrain: DictConfig,
    epochs: int,
    speed: Speed | None = None,
) -> DartsEvalModule:
    """The evaluation network of ``genotype`` for ``data``, in the schedule's training module
    (run with the ``speed`` options)."""
    net = NetworkCIFAR(
        genotype=genotype,
        num_classes=data.num_classes,
        in_channels=data.in_channels,
        **retrain.network,
    )
    return DartsEvalModule(net, max_epochs=epochs, speed=speed, **retrain.optim)


def trainer_args(cfg: DictConfig) -> dict:
    """The run's Trainer arguments plus the schedule's gradient clipping."""
    return {
        **OmegaConf.to_container(cfg.trainer, resolve=True),
        "gradient_clip_val": cfg.retrain.grad_clip,
    }


def train_genotype(
    cfg: DictConfig, logger: RunLogger, genotype: Genotype, epochs: int, seed: int, test: bool
) -> dict:
    """Train ``genotype`` from scratch for ``epochs`` with ``seed``; its final validation
    accuracy (NaN without a validation split) and, with ``test``, its test accuracy."""
    L.seed_everything(seed, workers=True, verbose=False)
    data = instantiate(cfg.retrain.data)
    module = make_module(genotype, data, cfg.retrain, epochs, Speed.from_cfg(cfg.get("speed")))
    metrics = fit(module, data, trainer_args(cfg), epochs, logger, test=test)
    out = {
        "params_m": count_params_m(module.net),
        "data_variant": data.data_variant,
        "val_acc": metrics.get("val/acc", float("nan")),
    }
    if test:
        out["test_acc"] = metrics["test/acc"]
    return out


def brief_training(
    cfg: DictConfig, logger: RunLogger, epochs: int, seed: int
) -> BriefTrainingEvaluator:
    """An evaluator that trains each genotype ``epochs`` with this schedule and scores it by
    validation accuracy, every genotype with the same ``seed`` (the selection among searches
    of DARTS Sect. 3.3)."""
    return BriefTrainingEvaluator(
        make_data=lambda: instantiate(cfg.retrain.data),
        make_module=lambda genotype, data: make_module(
            genotype, data, cfg.retrain, epochs, Speed.from_cfg(cfg.get("speed"))
        ),
        trainer=trainer_args(cfg),
        epochs=epochs,
        seed=seed,
        seed_step=0,
        logger=logger,
    )


def retrain(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Retrain the genotype file ``cfg.genotype`` on ``retrain.num_seeds`` seeds from
    ``cfg.seed``; report test accuracy and error (DARTS Table 1's metric; the leaderboard
    shows the mean over seeds)."""
    genotype = load_genotype(cfg.genotype, cfg.retrain.get("steps", STEPS))
    runs = [
        train_genotype(cfg, logger, genotype, cfg.retrain.epochs, s, test=True)
        for s in range(cfg.seed, cfg.seed + cfg.retrain.num_seeds)
    ]
    return RunResult(
        metrics={
            "test_acc": [r["test_acc"] for r in runs],
            "test_error": [100.0 - r["test_acc"] for r in runs],
        },
        data_variant=runs[0]["data_variant"],
        protocol={
            "genotype": str(genotype),
            "genotype_file": str(cfg.genotype),
            "retrain_seeds": cfg.retrain.num_seeds,
            "retrain_epochs": cfg.retrain.epochs,
            "final_metric": FINAL_METRIC,
        },
        diagnostics={"val_acc": [r["val_acc"] for r in runs]},
        cost={"params_m": runs[0]["params_m"]},
    )
