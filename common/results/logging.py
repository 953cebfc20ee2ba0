"""Per-run logging: W&B (offline by default: no account, `wandb sync` later) and a CSV log.

The published numbers an experiment reproduces go to W&B as reference values
(``published/<metric>`` in the config and summary), so dashboards show them side by side.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf


class RunLogger:
    def __init__(self, cfg: DictConfig, run_dir: Path, published_refs: list[dict]) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.refs = {r["metric"]: r for r in published_refs}
        self.csv_path = self.run_dir / "metrics.csv" if cfg.logger.csv.enabled else None
        if self.csv_path:
            with open(self.csv_path, "w", newline="") as f:
                csv.writer(f).writerow(["step", "key", "value"])
        self.wandb_run = None
        if cfg.logger.wandb.enabled and cfg.logger.wandb.mode != "disabled":
            import wandb

            os.environ.setdefault("WANDB_SILENT", "true")
            config = OmegaConf.to_container(cfg, resolve=True)
            config["published"] = {m: r["value"] for m, r in self.refs.items()}
            self.wandb_run = wandb.init(
                project=cfg.logger.wandb.project,
                entity=cfg.logger.wandb.entity,
                mode=cfg.logger.wandb.mode,
                dir=str(self.run_dir),
                name=f"{cfg.experiment_name}-seed{cfg.seed}",
                group=cfg.experiment_name,
                config=config,
                reinit="finish_previous",
            )

    def log(self, metrics: dict[str, float], step: int) -> None:
        if self.csv_path:
            with open(self.csv_path, "a", newline="") as f:
                w = csv.writer(f)
                for key, value in metrics.items():
                    w.writerow([step, key, value])
        if self.wandb_run is not None:
            self.wandb_run.log(metrics, step=step)

    def lightning_loggers(self) -> list:
        """Loggers for a Lightning Trainer writing into this run (same W&B run, CSV beside)."""
        from lightning.pytorch.loggers import CSVLogger, WandbLogger

        # one CSV folder per Trainer (a stage may fit several networks)
        self.num_fits = getattr(self, "num_fits", 0) + 1
        csv_logger = CSVLogger(
            save_dir=str(self.run_dir), name="lightning", version=f"fit{self.num_fits}"
        )
        loggers = [csv_logger]
        if self.wandb_run is not None:
            loggers.append(WandbLogger(experiment=self.wandb_run))
        return loggers

    def summary(self, record: dict) -> None:
        if self.wandb_run is None:
            return
        for metric, values in record["metrics"].items():
            finite = [v for v in values if not math.isnan(v)]
            if finite:
                self.wandb_run.summary[f"final/{metric}_mean"] = sum(finite) / len(finite)
        for metric, ref in self.refs.items():
            self.wandb_run.summary[f"published/{metric}"] = ref["value"]

    def close(self) -> None:
        if self.wandb_run is not None:
            self.wandb_run.finish()
            self.wandb_run = None
