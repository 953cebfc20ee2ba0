"""Random search with real training: sample cells, train each briefly, select by validation
accuracy, retrain the winner and evaluate it on the test split.

This is the protocol of the random-search baseline of DARTS (Liu et al., ICLR 2019, Sect.
3.3 and Table 1: "best of 24 samples by validation error after 100 training epochs", then
retrained), here on the NAS-Bench-201 cell space. It is the project's default job: at reduced
scale on the embedded digits data it runs search -> derive -> retrain -> evaluate -> record in
minutes on a laptop CPU, with the hand-off between stages made through a file
(``selected_arch.json``), never through memory.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig

from common.evaluators.brief_training import BriefTrainingEvaluator
from common.protocols.repeated import run_seed
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network
from common.speed import Speed
from common.training.classifier import ClassifierModule
from common.training.fit import fit


def make_module(cfg: DictConfig, arch: Nb201Arch, data: L.LightningDataModule, epochs: int):
    """The NB-201 network of ``arch`` for ``data`` in the NB-201 training module."""
    net = Nb201Network(arch, data.num_classes, data.in_channels, **cfg.model)
    return ClassifierModule(
        net, max_epochs=epochs, speed=Speed.from_cfg(cfg.get("speed")), **cfg.optim
    )


def candidate_evaluator(cfg: DictConfig, logger: RunLogger) -> BriefTrainingEvaluator:
    """Brief training of the candidates: the i-th sample trains ``search.epochs`` epochs with
    seed ``run_seed(seed, i)`` (the project's convention, common/protocols/repeated.py); a cell
    sampled twice is trained once."""
    return BriefTrainingEvaluator(
        make_data=lambda: instantiate(cfg.data),
        make_module=lambda arch, data: make_module(cfg, arch, data, cfg.search.epochs),
        trainer=cfg.trainer,
        epochs=cfg.search.epochs,
        seed=run_seed(cfg.seed, 0),  # the n-th evaluation trains with run_seed(seed, n)
        seed_step=1,
        logger=logger,
    )


def train_and_test(cfg: DictConfig, logger: RunLogger, arch: Nb201Arch, seed: int) -> dict:
    """Retrain ``arch`` from scratch for ``retrain.epochs``; its validation and test accuracy."""
    L.seed_everything(seed, workers=True, verbose=False)
    data = instantiate(cfg.data)
    module = make_module(cfg, arch, data, cfg.retrain.epochs)
    metrics = fit(module, data, cfg.trainer, cfg.retrain.epochs, logger, test=True)
    return {
        "val_acc": metrics["val/acc"],
        "test_acc": metrics["test/acc"],
        "params_m": sum(p.numel() for p in module.net.parameters()) / 1e6,
        "data_variant": data.data_variant,
    }


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    rng = random.Random(cfg.seed)
    search = cfg.search
    evaluator = candidate_evaluator(cfg, logger)
    candidates = []
    for i in range(search.num_candidates):
        arch = Nb201Arch.sample(rng)
        res = evaluator.evaluate(arch)
        candidates.append(
            {
                "arch": str(arch),
                "val_acc": res.score,
                "params_m": res.info["params_m"],
                "data_variant": res.info["data_variant"],
                "train_s": res.cost_s,
                "cached": res.info["cached"],
            }
        )
        logger.log({"search/candidate_val_acc": res.score}, step=i)

    # Select on the validation split only; hand the choice over as a file.
    best = max(candidates, key=lambda c: c["val_acc"])
    artefact = Path(logger.run_dir) / "selected_arch.json"
    artefact.write_text(json.dumps({"space": "nb201", "arch": best["arch"]}, indent=1))

    chosen = Nb201Arch.parse(json.loads(artefact.read_text())["arch"])
    finals = [
        train_and_test(cfg, logger, chosen, seed)
        for seed in range(cfg.seed, cfg.seed + cfg.retrain.num_seeds)
    ]
    return RunResult(
        metrics={"test_acc": [f["test_acc"] for f in finals]},
        data_variant=finals[0]["data_variant"],
        protocol={
            "num_searches": 1,
            "num_candidates": search.num_candidates,
            "candidate_epochs": search.epochs,
            "selection": "highest validation accuracy after candidate training (val split)",
            "retrain_epochs": cfg.retrain.epochs,
            "retrain_seeds": cfg.retrain.num_seeds,
            "final_metric": "test accuracy of the retrained selected cell (test split)",
            "selected_arch": str(chosen),
            "artefact": str(artefact),
        },
        diagnostics={"candidates": candidates, "retrain_val_acc": [f["val_acc"] for f in finals]},
        cost={
            "trained_epochs": evaluator.num_trained * search.epochs
            + cfg.retrain.num_seeds * cfg.retrain.epochs,
            "candidate_training_s": evaluator.spent_s,
            "params_m_selected": finals[0]["params_m"],
        },
    )
