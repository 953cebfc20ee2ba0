"""PNAS's predictors on their own where ground truth exists: fitted on k NAS-Bench-201 cells
(their 200-epoch CIFAR-10 validation accuracy), ranked against the table on all other cells,
as a function of k (PNAS Sect. 5.2 reports its predictors' rank correlations per level;
compare the shape, not the values: another space, another k). No training: seconds per fit.

An NB-201 cell as PNAS encodes cells (predictor.py): node 1 -> (0, -, o10, -); node 2 ->
(0, 1, o20, o21); node 3 reads three states, so it is two blocks (0, 1, o30, o31) and
(2, -, o32, -). Inputs and ops are 1-based (0 is padding).
"""

from __future__ import annotations

import time

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig
from scipy.stats import kendalltau, spearmanr

from common.results.record import RunResult
from common.spaces.nb201 import OPS, Nb201Arch, all_archs
from reproductions.pnas.predictor import PAD, Block, Ensemble


def encode_nb201(arch: Nb201Arch) -> list[Block]:
    o = [OPS.index(op) + 1 for op in arch.ops]  # edges (1,0) (2,0) (2,1) (3,0) (3,1) (3,2)
    return [(1, PAD, o[0], PAD), (1, 2, o[1], o[2]), (1, 2, o[3], o[4]), (3, PAD, o[5], PAD)]


def rank_correlations(
    encoded: list[list[Block]],
    accs: np.ndarray,
    k: int,
    kind: str,
    seed: int,
    size: int,
    epochs: int,
) -> dict[str, float]:
    """Fit an ensemble on k random cells; Spearman / Kendall on all the others."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(encoded))
    train, test = order[:k], order[k:]
    ens = Ensemble(kind, num_inputs=3, num_ops=len(OPS), size=size, epochs=epochs, seed=seed)
    ens.fit([encoded[i] for i in train], (accs[train] / 100.0).tolist())
    pred = ens.predict([encoded[i] for i in test])
    return {
        "spearman": float(spearmanr(pred, accs[test]).statistic),
        "kendall": float(kendalltau(pred, accs[test]).statistic),
    }


def run(cfg: DictConfig, logger) -> RunResult:  # noqa: ANN001 - RunLogger
    import torch

    if cfg.get("torch_threads"):
        torch.set_num_threads(int(cfg.torch_threads))
    s = cfg.search
    bench = instantiate(cfg.benchmark)
    archs = list(all_archs())  # the table's columns are in this order (arch_code)
    encoded = [encode_nb201(a) for a in archs]
    accs = np.asarray(bench.columns[s.target_column])
    metrics: dict[str, list[float]] = {}
    curve = []
    t0 = time.time()
    for kind in s.kinds:
        for k in s.ks:
            for rep in range(int(s.num_seeds)):
                seed = int(cfg.seed) * 1000 + rep
                r = rank_correlations(encoded, accs, int(k), kind, seed, s.ensemble_size, s.epochs)
                metrics.setdefault(f"kendall_{kind}_k{k}", []).append(r["kendall"])
                metrics.setdefault(f"spearman_{kind}_k{k}", []).append(r["spearman"])
                curve.append({"kind": kind, "k": int(k), "seed": seed, **r})
                logger.log({f"{kind}_k{k}_kendall": r["kendall"]}, step=len(curve))
    # a predictor that knows nothing: random scores on the same held-out cells
    rng = np.random.default_rng(int(cfg.seed))
    rand = rng.random(len(accs))
    metrics["kendall_random"] = [float(kendalltau(rand, accs).statistic)]
    return RunResult(
        metrics=metrics,
        data_variant=f"{cfg.benchmark.variant} ({s.target_column}, 200 epochs)",
        protocol={
            "target_column": s.target_column,
            "evaluated_on": "every cell not used for fitting",
            "encoding": "PNAS (I1, I2, O1, O2) per block; NB-201 node 3 as two blocks",
            "ensemble_size": int(s.ensemble_size),
            "epochs": int(s.epochs),
        },
        diagnostics={"curve": curve},
        cost={"wall_s": time.time() - t0, "fits": len(curve)},
    )
