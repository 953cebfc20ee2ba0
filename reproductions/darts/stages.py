"""The DARTS stages as run-record producing tasks (Liu et al., ICLR 2019, Sect. 2-3):
``search`` (supernet -> genotype file), ``search_and_retrain`` (several searches, selection by
brief training, retrain of the pick, for reduced-scale experiments). Retraining a genotype
file is the shared DARTS-space protocol, ``common.protocols.darts_eval.retrain``.

Hand-offs between stages are files: ``genotype.json`` (DARTS space) or ``arch.json``
(NB-201 space) written by ``search``, read by the selection and the retrain. The search stage's
only final metric is the NB-201 table's accuracy of the found cell (NB-201 space); a supernet's
accuracy is logged as a diagnostic and never recorded as a result.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.utilities.combined_loader import CombinedLoader
from omegaconf import DictConfig, OmegaConf

from common.errors import NasReproError
from common.protocols import darts_eval
from common.protocols.repeated import run_seed
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.spaces.darts.genotype import Genotype
from common.spaces.nb201.arch import Nb201Arch
from common.speed import Speed
from common.training.fit import fit
from reproductions.darts.search_module import DartsSearchModule

PARAMETER_FREE = {"none", "skip_connect", "max_pool_3x3", "avg_pool_3x3"}


class PairedSearchData(L.LightningDataModule):
    """One batch from each half of the search split per step: ``{"train": .., "arch": ..}``."""

    def __init__(self, data: L.LightningDataModule) -> None:
        super().__init__()
        self.data = data

    def setup(self, stage: str | None = None) -> None:
        self.data.setup("fit")

    def train_dataloader(self) -> CombinedLoader:
        loaders = {"train": self.data.train_dataloader(), "arch": self.data.val_dataloader()}
        return CombinedLoader(loaders, mode="min_size")


class ArchitectureLog(L.Callback):
    """Every epoch: softmax of the architecture weights, their entropy and the derived
    genotype, to the CSV/W&B log and to ``alphas.jsonl`` in the run folder."""

    def __init__(self, logger: RunLogger) -> None:
        self.logger = logger
        self.history: list[dict] = []
        self.start = 0.0

    def state_dict(self) -> dict:  # saved in the fit's checkpoint: a resumed search keeps its past
        return {"history": self.history}

    def load_state_dict(self, state_dict: dict) -> None:
        self.history = list(state_dict["history"])

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.start = time.perf_counter()
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        net = module.net
        probs = [torch.softmax(a.detach().float().cpu(), dim=-1) for a in net.arch_parameters()]
        entropy = [float(-(p * p.clamp_min(1e-12).log()).sum(-1).mean()) for p in probs]
        genotype = net.genotype()
        ops = genotype.ops if isinstance(genotype, Nb201Arch) else [op for op, _ in genotype.normal]
        entry = {
            "epoch": trainer.current_epoch,
            "genotype": str(genotype),
            "entropy": entropy,
            "param_free_fraction": sum(op in PARAMETER_FREE for op in ops) / len(ops),
            "alphas_softmax": [p.tolist() for p in probs],
            "supernet_train_acc": float(trainer.callback_metrics.get("search/train_acc", math.nan)),
            "epoch_wall_s": time.perf_counter() - self.start,
            "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20
            if torch.cuda.is_available()
            else None,
        }
        self.history.append(entry)
        with open(self.logger.run_dir / "alphas.jsonl", "a") as f:
            f.write(json.dumps(entry) + "\n")
        self.logger.log(
            {
                "arch/genotype": entry["genotype"],
                "arch/param_free_fraction": entry["param_free_fraction"],
                "search/epoch_wall_s": entry["epoch_wall_s"],
                **{f"arch/entropy_{i}": e for i, e in enumerate(entropy)},
            },
            step=trainer.current_epoch,
        )


def save_arch(arch: Genotype | Nb201Arch, path: Path) -> Path:
    if isinstance(arch, Nb201Arch):
        path.write_text(json.dumps({"space": "nb201", "arch": str(arch)}, indent=1) + "\n")
    else:
        arch.save(path)
    return path


def load_arch(path: str | Path) -> Genotype | Nb201Arch:
    p = Path(path)
    if p.is_file() and p.read_text().lstrip().startswith("{"):
        data = json.loads(p.read_text())
        if data.get("space") == "nb201":
            return Nb201Arch.parse(data["arch"])
    return Genotype.load(p)


def run_search(cfg: DictConfig, logger: RunLogger) -> tuple[Genotype | Nb201Arch, Path, dict]:
    data = instantiate(cfg.data)
    if data.split != "search":
        raise NasReproError(f"the search stage needs data.split=search, got {data.split!r}")
    net = instantiate(
        cfg.search.network, num_classes=data.num_classes, in_channels=data.in_channels
    )
    module = DartsSearchModule(
        net,
        max_epochs=cfg.search.epochs,
        speed=Speed.from_cfg(cfg.get("speed")),
        **cfg.search.optim,
    )
    log_cb = ArchitectureLog(logger)
    # `search.run_epochs` stops a run early (timing a few epochs of the full schedule)
    run_epochs = cfg.search.get("run_epochs") or cfg.search.epochs
    fit(module, PairedSearchData(data), cfg.trainer, run_epochs, logger, callbacks=[log_cb])
    arch = net.genotype()
    name = "arch.json" if isinstance(arch, Nb201Arch) else "genotype.json"
    path = save_arch(arch, Path(logger.run_dir) / name)
    info = {
        "data_variant": data.data_variant,
        "history": [{k: v for k, v in h.items() if k != "alphas_softmax"} for h in log_cb.history],
        "final_alphas_softmax": log_cb.history[-1]["alphas_softmax"] if log_cb.history else None,
    }
    return arch, path, info


def search(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Search stage. On NB-201 the found cell is looked up in the benchmark table."""
    arch, path, info = run_search(cfg, logger)
    metrics: dict[str, list[float]] = {}
    if isinstance(arch, Nb201Arch) and cfg.get("benchmark"):
        bench = instantiate(cfg.benchmark)
        metrics = {c: [bench.value(arch, c)] for c in cfg.report_columns}
    return RunResult(
        metrics=metrics,
        data_variant=info["data_variant"]
        + (f"; accuracies from {cfg.benchmark.variant} (200 epochs)" if metrics else ""),
        protocol={**_search_protocol(cfg), "artefact": str(path), "found": str(arch)},
        diagnostics={
            "epochs": info["history"],
            "final_alphas_softmax": info["final_alphas_softmax"],
        },
        cost={
            "search_epochs_run": len(info["history"]),
            "search_epochs_schedule": cfg.search.epochs,
            "epoch_wall_s": [h["epoch_wall_s"] for h in info["history"]],
            "peak_gpu_mib_per_epoch": [h["peak_gpu_mib"] for h in info["history"]],
        },
    )


def _search_protocol(cfg: DictConfig) -> dict:
    return {
        "order": cfg.search.optim.order,
        "num_searches": 1,
        "derivation": "genotype of the final epoch's architecture weights",
        "search_network": OmegaConf.to_container(cfg.search.network, resolve=True),
        "bn": {
            k: cfg.search.network.get(k)
            for k in ("affine", "track_running_stats")
            if k in cfg.search.network
        },
        "search_split": "half of the training set for weights, the other half for alpha",
        "speed": Speed.from_cfg(cfg.get("speed")).record(),
    }


def search_and_retrain(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Reduced-scale end to end: ``num_searches`` searches -> pick by brief training and
    validation accuracy (DARTS Sect. 3.3) -> retrain the pick -> test."""
    evaluator = darts_eval.brief_training(cfg, logger, cfg.selection.epochs, cfg.seed)
    candidates = []
    for i in range(cfg.selection.num_searches):
        L.seed_everything(run_seed(cfg.seed, i), verbose=False)
        arch, path, info = run_search(cfg, logger)
        path = path.rename(path.with_name(f"genotype_search{i}.json"))
        brief = evaluator.evaluate(arch)
        candidates.append({"genotype": str(arch), "file": str(path), "val_acc": brief.score})
        logger.log({"selection/val_acc": brief.score}, step=i)
    best = max(candidates, key=lambda c: c["val_acc"])
    selected = save_arch(load_arch(best["file"]), Path(logger.run_dir) / "genotype.json")
    result = darts_eval.retrain(OmegaConf.merge(cfg, {"genotype": str(selected)}), logger)
    result.protocol.update(
        {
            **_search_protocol(cfg),
            "num_searches": cfg.selection.num_searches,
            "selection": f"train each found genotype {cfg.selection.epochs} epochs, keep the best validation accuracy",
            "candidates": candidates,
        }
    )
    result.cost.update(
        {"selection_trainings": evaluator.num_trained, "selection_wall_s": evaluator.spent_s}
    )
    result.data_variant = info["data_variant"]
    return result
