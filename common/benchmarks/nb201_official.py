"""Convert the official NAS-Bench-201 / NATS-Bench topology files into the compact table.

The official files (``NATS-tss-v1_0-3ffb9-simple/`` or ``NAS-Bench-201-v1_1-096897.pth``) are
read through their own API packages (``pip install nats_bench`` or ``nas-bench-201``), which
this project does not pin: they are needed once, to write the compact CSV that
``Nb201Benchmark.from_csv`` reads. Accuracies are the mean over the benchmark's seeds
(``is_random=False``), as the NB-201 paper reports them.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path

from common.benchmarks.nb201 import ACC_COLUMNS, OTHER_COLUMNS
from common.errors import NasReproError

# column -> (dataset name in the API, key of get_more_info, epochs hp)
SOURCES: dict[str, tuple[str, str, str]] = {
    "cifar10_valid": ("cifar10-valid", "valid-accuracy", "200"),
    "cifar10_test": ("cifar10", "test-accuracy", "200"),
    "cifar10valid_test": ("cifar10-valid", "test-accuracy", "200"),
    "cifar100_valid": ("cifar100", "valid-accuracy", "200"),
    "cifar100_test": ("cifar100", "test-accuracy", "200"),
    "imagenet16_valid": ("ImageNet16-120", "valid-accuracy", "200"),
    "imagenet16_test": ("ImageNet16-120", "test-accuracy", "200"),
    "cifar10valid_train_time_s": ("cifar10-valid", "train-all-time", "200"),
}
for _col in ACC_COLUMNS:
    if _col.endswith("_12ep"):
        dataset, key, _ = SOURCES[_col.removesuffix("_12ep")]
        SOURCES[_col] = (dataset, key, "12")
PARAMS = {
    "params_m_cifar10": "cifar10",
    "params_m_cifar100": "cifar100",
    "params_m_imagenet16": "ImageNet16-120",
}


def open_official(path: str | Path):
    """The official API object over ``path`` (NATS-Bench first, then the NB-201 package)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise NasReproError(f"official NAS-Bench-201 file not found at {path}")
    try:
        from nats_bench import create

        return create(str(path), "tss", fast_mode=True, verbose=False)
    except ImportError:
        pass
    try:
        from nas_201_api import NASBench201API

        return NASBench201API(str(path), verbose=False)
    except ImportError as e:
        raise NasReproError(
            "reading the official NAS-Bench-201 files needs their API: pip install nats_bench"
            " (NATS-tss archive) or pip install nas-bench-201 (.pth file)"
        ) from e


def more_info(api, index: int, dataset: str, hp: str) -> dict:
    """``get_more_info`` of either API generation: NATS (``hp=``) or NB-201 (``use_12epochs_result=``)."""
    params = inspect.signature(api.get_more_info).parameters
    if "hp" in params:
        return api.get_more_info(index, dataset, hp=hp, is_random=False)
    return api.get_more_info(index, dataset, use_12epochs_result=(hp == "12"), is_random=False)


def official_rows(api) -> list[dict]:
    rows = []
    for index in range(len(api)):
        row: dict = {"index": index, "arch": api.arch(index)}
        cache: dict[tuple[str, str], dict] = {}
        for column, (dataset, key, hp) in SOURCES.items():
            if (dataset, hp) not in cache:
                cache[dataset, hp] = more_info(api, index, dataset, hp)
            row[column] = cache[dataset, hp].get(key, math.nan)
        for column, dataset in PARAMS.items():
            row[column] = api.get_cost_info(index, dataset)["params"]
        # The compact table's FLOPs are counted the NASLib way; the official API counts
        # differently (data README), so they are left empty rather than mixed.
        row["flops_m_cifar10_naslib"] = row["flops_m_imagenet16_naslib"] = math.nan
        rows.append(row)
    return rows


def convert(source: str | Path, out: str | Path) -> Path:
    """Write the compact table for the official file ``source`` to ``out`` (.csv.gz)."""
    import pandas as pd

    df = pd.DataFrame(official_rows(open_official(source)))
    df = df[["index", "arch", *ACC_COLUMNS, *OTHER_COLUMNS]]
    out = Path(out)
    df.to_csv(out, index=False, float_format="%.6f")
    return out
