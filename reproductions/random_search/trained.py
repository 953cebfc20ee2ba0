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
from omegaconf import DictConfig, OmegaConf

from common.results.logging import RunLogger
from common.results.record import RunResult
from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network
from common.training.classifier import ClassifierModule


def train_and_evaluate(
    cfg: DictConfig, logger: RunLogger, arch: Nb201Arch, epochs: int, seed: int, test: bool
) -> dict[str, float]:
    """Train ``arch`` from scratch; return its final validation (and test) accuracy."""
    L.seed_everything(seed, workers=True, verbose=False)
    data = instantiate(cfg.data)
    net = Nb201Network(arch, data.num_classes, data.in_channels, **cfg.model)
    module = ClassifierModule(net, max_epochs=epochs, **cfg.optim)
    trainer = L.Trainer(
        **OmegaConf.to_container(cfg.trainer, resolve=True),
        max_epochs=epochs,
        logger=logger.lightning_loggers(),
        enable_checkpointing=False,
        default_root_dir=str(logger.run_dir),
    )
    trainer.fit(module, datamodule=data)
    out = {"val_acc": float(trainer.callback_metrics["val/acc"])}
    if test:
        trainer.test(module, datamodule=data, verbose=False)
        out["test_acc"] = float(trainer.callback_metrics["test/acc"])
    out["params_m"] = sum(p.numel() for p in net.parameters()) / 1e6
    out["data_variant"] = data.data_variant
    return out


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    rng = random.Random(cfg.seed)
    search = cfg.search
    candidates = []
    for i in range(search.num_candidates):
        arch = Nb201Arch.sample(rng)
        res = train_and_evaluate(cfg, logger, arch, search.epochs, cfg.seed * 1000 + i, test=False)
        candidates.append({"arch": str(arch), **res})
        logger.log({"search/candidate_val_acc": res["val_acc"]}, step=i)

    # Select on the validation split only; hand the choice over as a file.
    best = max(candidates, key=lambda c: c["val_acc"])
    artefact = Path(logger.run_dir) / "selected_arch.json"
    artefact.write_text(json.dumps({"space": "nb201", "arch": best["arch"]}, indent=1))

    chosen = Nb201Arch.parse(json.loads(artefact.read_text())["arch"])
    finals = [
        train_and_evaluate(cfg, logger, chosen, cfg.retrain.epochs, seed, test=True)
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
            "trained_epochs": search.num_candidates * search.epochs
            + cfg.retrain.num_seeds * cfg.retrain.epochs,
            "params_m_selected": finals[0]["params_m"],
        },
    )
