"""Stage function of the zero-cost-proxy experiments (Abdelfattah, Mehrotra, Dudziak, Lane,
"Zero-Cost Proxies for Lightweight NAS", ICLR 2021, Sect. 4.1; setup of the authors'
nasbench2_pred.py and notebooks/nasbench201_correlations.ipynb @a43bfbc).

For each sampled NB-201 cell: build the benchmark network (C=16, N=5, PyTorch's default
initialisation), draw one random augmented mini-batch of 64 training images, compute the six
proxies, and look up the cell's 200-epoch accuracy. The result is each proxy's Spearman rho
with accuracy over the sample, with a bootstrap interval. The images come from the
experiment's data module (``cfg.data``), as the training split stored there.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from common.benchmarks.nb201 import arch_code
from common.data.pool import training_pool
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.scores.device import resolve_device
from common.scores.zero_cost import LOSS_PROXIES, jacob_cov, loss_gradient_proxies, synflow
from common.spaces.nb201.arch import NUM_ARCHS, Nb201Arch, all_archs
from common.spaces.nb201.model import Nb201Network
from reproductions.zero_cost_proxies.analysis import reference_agreement, spearman_with_ci


def sample_archs(num_archs: int | None, seed: int) -> list[Nb201Arch]:
    """All 15,625 cells (``None``) or a seeded uniform sample without replacement."""
    archs = list(all_archs())
    if num_archs is None or num_archs >= NUM_ARCHS:
        return archs
    codes = np.random.default_rng(seed).choice(NUM_ARCHS, size=num_archs, replace=False)
    return [archs[c] for c in sorted(codes)]


def score_archs(archs, pool, cfg: DictConfig, device, logger: RunLogger) -> pd.DataFrame:
    p = cfg.proxies
    names = list(p.names)
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    rows = []
    bar = tqdm(archs, desc="zero-cost proxies", unit="cell", mininterval=1.0, dynamic_ncols=True)
    for step, arch in enumerate(bar):
        net = Nb201Network(
            arch, p.num_classes, channels=p.channels, cells_per_stage=p.cells_per_stage
        ).to(device)
        x, y = pool.batch(rng, p.batch_size, p.mean, p.std, p.augment, device=device)
        row: dict = {"arch": str(arch)}
        timings = {}
        start = time.perf_counter()
        loss_based = [n for n in names if n in LOSS_PROXIES]
        if loss_based:
            row.update(loss_gradient_proxies(net, x, y, loss_based))
        timings["loss_proxies_s"] = time.perf_counter() - start
        if "jacob_cov" in names:
            t = time.perf_counter()
            row["jacob_cov"] = jacob_cov(net, x)
            timings["jacob_cov_s"] = time.perf_counter() - t
        if "synflow" in names:
            t = time.perf_counter()
            row["synflow"] = synflow(net, x)
            timings["synflow_s"] = time.perf_counter() - t
        timings["total_s"] = time.perf_counter() - start
        row.update(timings)
        rows.append(row)
        logger.log({n: row[n] for n in names}, step=step)
    return pd.DataFrame(rows)


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    bench = instantiate(cfg.benchmark)
    pool = training_pool(cfg.data)
    device = resolve_device(cfg.device)
    archs = sample_archs(cfg.sample.num_archs, cfg.sample.seed)
    names = list(cfg.proxies.names)

    start = time.perf_counter()
    df = score_archs(archs, pool, cfg, device, logger)
    wall = time.perf_counter() - start
    targets = list(cfg.correlation.targets)
    for column in targets:
        df[column] = [bench.value(Nb201Arch.parse(a), column) for a in df["arch"]]
    df.insert(1, "index", [bench.index_of(Nb201Arch.parse(a)) for a in df["arch"]])
    df.insert(2, "code", [arch_code(Nb201Arch.parse(a)) for a in df["arch"]])
    df.to_csv(logger.run_dir / "scores.csv", index=False, quoting=csv.QUOTE_MINIMAL)

    corr = {
        target: {
            n: spearman_with_ci(df[n], df[target], cfg.correlation.num_boot, cfg.correlation.seed)
            for n in names
        }
        for target in targets
    }
    headline = cfg.correlation.headline_target
    metrics = {f"spearman_abs_{n}": [abs(corr[headline][n]["rho"])] for n in names}

    diagnostics: dict = {
        "spearman": corr,
        "nan_scores": {n: int(df[n].isna().sum()) for n in names},
    }
    ref = cfg.crosscheck.path
    if ref and Path(ref).expanduser().is_file():
        diagnostics["reference_agreement"] = reference_agreement(df, ref, cfg.crosscheck.dataset)
        diagnostics["reference"] = {"path": ref, "dataset": cfg.crosscheck.dataset}
    elif ref:
        diagnostics["reference"] = f"{ref} not found: per-architecture cross-check skipped"

    proxies_cfg = OmegaConf.to_container(cfg.proxies, resolve=True)
    return RunResult(
        metrics=metrics,
        data_variant=(
            f"{pool.data_variant} for the proxies' mini-batches; accuracies: "
            f"{cfg.benchmark.variant} (200 epochs)"
        ),
        protocol={
            "num_archs": len(archs),
            "arch_sample": "all" if len(archs) == NUM_ARCHS else "uniform without replacement",
            "arch_sample_seed": cfg.sample.seed,
            "proxies": proxies_cfg,
            "network": "NB-201 benchmark network, C=16, N=5, PyTorch default init, train mode",
            "batches": "one random mini-batch per architecture (dataload random, dlinfo 1)",
            "headline_target": headline,
            "metric": "|Spearman rho| over the sampled architectures (notebook takes abs())",
            "bootstrap": {"num_boot": cfg.correlation.num_boot, "seed": cfg.correlation.seed},
            "device": str(device),
        },
        diagnostics=diagnostics,
        cost={
            "scoring_wall_s": wall,
            "archs_per_s": len(archs) / wall,
            "mean_s_per_arch": {k: float(df[k].mean()) for k in df.columns if k.endswith("_s")},
        },
    )
