"""Rank statistics of a proxy against accuracy (Abdelfattah et al., ICLR 2021, Sect. 4.1:
Spearman rho; the authors' notebook reports |rho|), with a bootstrap interval, and the
per-architecture rank agreement with a reference table of the same proxies.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

# our proxy name -> column of NAS-Bench-Suite-Zero's table (shared/data/nb201_zc_proxies.csv.gz)
REFERENCE_COLUMNS = {
    "grad_norm": "grad_norm",
    "snip": "snip",
    "grasp": "grasp",
    "fisher": "fisher",
    "jacob_cov": "jacov",
    "synflow": "synflow",
}


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rho over the pairs where both are finite (``nan_policy='omit'``)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return math.nan
    with warnings.catch_warnings():  # a constant resample gives NaN, which is what we want
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        return float(stats.spearmanr(x[ok], y[ok]).statistic)


def spearman_with_ci(
    x: np.ndarray, y: np.ndarray, num_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> dict:
    """rho and a percentile bootstrap interval (architectures resampled with replacement)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    rho = spearman(x, y)
    rng = np.random.default_rng(seed)
    boot = np.array([spearman(x[i], y[i]) for i in rng.integers(0, len(x), (num_boot, len(x)))])
    boot = boot[np.isfinite(boot)]
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha]) if boot.size else (math.nan, math.nan)
    return {
        "rho": rho,
        "ci_low": float(lo),
        "ci_high": float(hi),
        "n": int((np.isfinite(x) & np.isfinite(y)).sum()),
        "num_boot": num_boot,
    }


def reference_agreement(
    ours: pd.DataFrame, reference_path: str | Path, dataset: str = "cifar10"
) -> dict[str, dict]:
    """Spearman rho, per proxy, between our values and the reference table's for the same
    architectures (matched by arch string; the reference holds the 9,445 non-isomorphic
    cells, so only the sampled cells among them are compared)."""
    ref = pd.read_csv(reference_path)
    ref = ref[ref["dataset"] == dataset].set_index("arch")
    common = ours[ours["arch"].isin(ref.index)]
    out = {}
    for ours_name, ref_name in REFERENCE_COLUMNS.items():
        if ours_name not in ours.columns:
            continue
        theirs = ref.loc[common["arch"], ref_name].to_numpy(dtype=np.float64)
        out[ours_name] = {
            "rho": spearman(common[ours_name].to_numpy(), theirs),
            "n": int(len(common)),
            "reference_column": ref_name,
        }
    return out
