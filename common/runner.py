"""Runs one experiment: calls its stage function, logs, and writes the run record.

The record is written only after the stage returns, atomically: a run that fails writes
nothing. A run checkpoints as it goes (``checkpoint.every_n_epochs``); ``resume=<run dir>``
continues a killed run in its own folder with the config it started with (``common.resume``). A run prints the leaderboard rows it produced (published beside reproduced); a
multirun then prints a summary over its runs (``SweepSummary``).
"""

from __future__ import annotations

import logging
import random
import sys
import time
from pathlib import Path

import numpy as np
from hydra.experimental.callback import Callback
from hydra.utils import get_method
from omegaconf import DictConfig, OmegaConf

from common import resume
from common.errors import NasReproError
from common.results import published
from common.results.logging import RunLogger
from common.results.record import (
    RECORD_SCHEMA,
    RunResult,
    device_description,
    git_state,
    now_iso,
    package_versions,
    peak_memory_mb,
    write_json_atomic,
)
from common.speed import Speed

log = logging.getLogger(__name__)
# A job a launcher ran in another process (submitit) leaves its one-line error here
JOB_ERROR_FILE = "error.txt"
REPO_ROOT = Path(__file__).resolve().parents[1]
# conf/config.yaml's hydra.run.dir uses it; Hydra imports this module (SweepSummary) first
resume.register_resolver()


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def quiet_libraries() -> None:
    """Lightning's per-fit banners (GPU available, tips) would bury the run's own output."""
    import lightning  # noqa: F401  (its import sets these levels; set ours after it)

    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)


# Overrides that cut a run short of its experiment's schedule (a few-step check).
TRUNCATING_TRAINER_KEYS = (
    "max_steps",
    "max_time",
    "fast_dev_run",
    "limit_train_batches",
    "limit_val_batches",
    "limit_test_batches",
)


def truncations(cfg: DictConfig) -> list[str]:
    """The overrides in ``cfg`` that stop a run before its schedule ends (empty: full run)."""
    out = [
        f"trainer.{k}" for k in TRUNCATING_TRAINER_KEYS if cfg.get("trainer", {}).get(k) is not None
    ]
    for stage in ("search", "supernet"):  # stages that stop early by their own run_epochs
        node = cfg.get(stage)
        if isinstance(node, DictConfig) and node.get("run_epochs"):
            out.append(f"{stage}.run_epochs")
    return out


def check_canonical(cfg: DictConfig) -> list[str]:
    """A canonical record (one the leaderboard shows) must come from the full schedule;
    returns the run's truncating overrides (empty for a full run)."""
    cut = truncations(cfg)
    if cfg.record.canonical and cut:
        raise NasReproError(
            f"record.canonical=true needs the experiment's full schedule, but {', '.join(cut)}"
            " cuts it short: drop those overrides (a truncated run's numbers are not results)"
        )
    return cut


def run_experiment(cfg: DictConfig, run_dir: Path) -> dict | None:
    """Run ``cfg.task`` and return the record it wrote to ``run_dir/record.json`` (None in
    a data-parallel rank other than 0, which writes nothing)."""
    from common.training import distributed

    cut = check_canonical(cfg)
    resuming = bool(cfg.get("resume"))
    rank = distributed.global_rank()  # >0: a data-parallel copy of the run (strategy=ddp)
    if resuming:
        resume.check_resume(cfg, run_dir)
    if resuming and rank == 0:
        _keep_earlier_log(run_dir)
        log.info("resuming %s from its checkpoints", run_dir)
    quiet_libraries()
    if cfg.torch_threads:
        import torch

        torch.set_num_threads(cfg.torch_threads)
    seed_everything(cfg.seed)
    refs = published.results_for(cfg.experiment_name)
    if rank == 0:
        logger = RunLogger(cfg, run_dir, refs)
    else:  # every rank runs the task in step; only rank 0 logs and writes (its record too)
        quiet = {"logger": {"csv": {"enabled": False}, "wandb": {"enabled": False}}}
        logger = RunLogger(OmegaConf.merge(cfg, quiet), run_dir, refs)
        distributed.mute(logger)
    if "checkpoint" in cfg:
        resume.configure(logger, cfg.checkpoint.every_n_epochs, resuming, root=run_dir)
    start = time.perf_counter()
    try:
        result: RunResult = get_method(cfg.task)(cfg, logger)
        wall = time.perf_counter() - start
        if distributed.world_size() > 1:  # the ranks of a `ddp` run each ran the task
            _check_ranks_agree(result, Path(logger.run_dir), run_dir)
        commit, dirty = git_state(REPO_ROOT)
        record = {
            "schema": RECORD_SCHEMA,
            "experiment": cfg.experiment_name,
            "truncated_by": cut,
            "paper": cfg.paper,
            "stage": cfg.stage,
            "scale": cfg.scale,
            "seed": cfg.seed,
            "data_variant": result.data_variant,
            "metrics": result.metrics,
            "protocol": result.protocol,
            "diagnostics": result.diagnostics,
            "cost": {
                **result.cost,
                "wall_clock_s": wall,
                **peak_memory_mb(),
                "speed": Speed.from_cfg(cfg.get("speed")).record(),
            },
            "device": device_description(),
            "git_commit": commit,
            "git_dirty": dirty,
            "packages": package_versions(),
            "created": now_iso(),
            "config": OmegaConf.to_container(cfg, resolve=True),
        }
        logger.summary(record)
    finally:
        logger.close()
    if rank != 0:
        return None
    write_json_atomic(run_dir / "record.json", record)
    if cfg.record.canonical:
        path = (
            Path(cfg.record.results_dir) / cfg.paper / f"{cfg.experiment_name}__seed{cfg.seed}.json"
        )
        write_json_atomic(path, record)
        log.info("canonical record written to %s", path)
    return record


def _check_ranks_agree(result: RunResult, own_dir: Path, run_dir: Path) -> None:
    """Every rank of a ``ddp`` run ran the whole task (Lightning re-runs the command line for
    ranks > 0); their results must be rank 0's (fits hand rank 0's metrics and weights to all
    ranks), or a later step of theirs could have diverged. Recorded in the diagnostics as
    ``data_parallel``; the files a rank > 0 wrote to its scratch folder count as the run's."""
    import json

    from common.training import distributed

    text = json.dumps({"metrics": result.metrics, "protocol": result.protocol}, default=str)
    agree = distributed.same_on_all_ranks(text.replace(str(own_dir), str(run_dir)))
    if not agree:
        log.warning("the data-parallel ranks ended with different results: rank 0's is kept")
    result.diagnostics["data_parallel"] = {
        "world_size": distributed.world_size(),
        "same_result_on_all_ranks": agree,
    }


def _keep_earlier_log(run_dir: Path) -> None:
    """The logger starts ``metrics.csv`` afresh: keep what the killed run had logged."""
    csv = run_dir / "metrics.csv"
    if csv.is_file():
        n = len(list(run_dir.glob("metrics.before-resume*.csv"))) + 1
        csv.rename(run_dir / f"metrics.before-resume{n}.csv")


def sweep_summary(records: list[dict]) -> str:
    """What a multirun prints at its end: the NAS-Bench-201 board of the experiments it ran
    (reproduced beside published, as in the NB-201 paper's table) and, for an experiment
    run with several seeds, its rows pooled over them. Empty when there is nothing to add."""
    from common.results.leaderboard import aggregate, comparison_rows, nb201_board

    groups = aggregate(records)
    lines = []
    for exp, group in sorted(groups.items()):
        refs = published.results_for(exp)
        if len(group["records"]) < 2 or not refs:
            continue  # a single run already printed its own rows
        seeds = ", ".join(str(s) for s in sorted(group["seeds"]))
        lines += [
            f"\n{exp}, pooled over seeds {seeds}:",
            "| metric | published | reproduced | Δ | within band | published number |",
            "|---|---|---|---|---|---|",
        ]
        for res in refs:
            lines += comparison_rows(res, group)
    board, rows = nb201_board(groups)
    if rows:
        lines += ["\nNAS-Bench-201, reproduced / published (mean ± std, %):", *board]
    if any(r.get("truncated_by") for r in records):
        lines.append("Some runs were TRUNCATED (see above): their numbers are not results.")
    return "\n".join(lines)


class SweepSummary(Callback):
    """Hydra callback (conf/config.yaml): at the end of a multirun, print ``sweep_summary`` of
    the run records the sweep's jobs wrote (also for launchers that run jobs elsewhere), then
    the bad-input errors of jobs run elsewhere (``JOB_ERROR_FILE``), exiting 2 if any."""

    def on_multirun_end(self, config: DictConfig, **kwargs: object) -> None:
        import json

        sweep_dir = Path(str(config.hydra.sweep.dir))
        records = [json.loads(p.read_text()) for p in sorted(sweep_dir.rglob("record.json"))]
        text = sweep_summary(records) if records else ""
        if text:
            print(text)
        errors = sorted(sweep_dir.rglob(JOB_ERROR_FILE))
        for path in errors:  # jobs a launcher ran elsewhere (common.cli): one line each
            print(f"error: {path.parent.name}: {path.read_text().strip()}", file=sys.stderr)
        if errors:
            sys.exit(2)
