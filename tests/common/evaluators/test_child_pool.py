"""ChildPool: parallel workers give the in-process results, the cache never retrains, the jsonl
replay file survives the pool, and a bad executor name is one clear error."""

import functools
import json
import os
import zlib
from pathlib import Path

import pytest

from common.errors import NasReproError
from common.evaluators.child_pool import ChildPool, slurm_parameters

REPO = Path(__file__).resolve().parents[3]


def digits_conv_child(arch: tuple[int, int], seed: int = 0, steps: int = 15) -> dict:
    """A tiny conv net (``arch`` = (filters, kernel)) trained ``steps`` full-batch Adam steps on
    sklearn digits; its accuracy in percent on the last 297 images. Seeded from its arguments."""
    import torch
    from sklearn.datasets import load_digits

    filters, kernel = arch
    torch.manual_seed(seed + zlib.crc32(repr(arch).encode()))
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(digits.target)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, filters, kernel, padding=kernel // 2),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * filters, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x[:1500]), y[:1500]).backward()
        opt.step()
    with torch.no_grad():
        acc = (net(x[1500:]).argmax(1) == y[1500:]).float().mean().item()
    return {"reward": 100 * acc, "params": sum(p.numel() for p in net.parameters())}


def counting_child(arch: int, log: str) -> dict:
    """A deterministic child that appends a line to ``log`` each time it really runs."""
    with open(log, "a") as f:
        f.write(f"{arch}\n")
    return {"reward": float(arch) ** 2}


ARCHS = [(4, 3), (8, 3), (4, 5), (8, 3), (6, 1)]  # (8, 3) twice: trained once


def importable_here(monkeypatch):
    """The workers are fresh interpreters: they must import this module to unpickle a child."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))


def test_local_executor_runs_a_batch_on_two_workers(tmp_path, monkeypatch):
    importable_here(monkeypatch)
    log = tmp_path / "calls.txt"
    fn = functools.partial(counting_child, log=str(log))
    pool = ChildPool(fn, executor="local", workers=2, folder=tmp_path / "jobs", threads=None)
    results = pool.map([3, 1, 3, 2])
    assert [r["reward"] for r in results] == [9.0, 1.0, 9.0, 4.0]
    assert [r["cached"] for r in results] == [False, False, True, False]
    assert sorted(log.read_text().split()) == ["1", "2", "3"] and pool.num_trained == 3


@pytest.mark.slow  # ~40 s on a busy 2-core machine: 4 fresh interpreters import torch
def test_local_executor_trains_conv_children_as_inline_does(tmp_path, monkeypatch):
    importable_here(monkeypatch)
    fn = functools.partial(digits_conv_child, seed=3)
    inline = ChildPool(fn).map(ARCHS)
    pool = ChildPool(fn, executor="local", workers=2, folder=tmp_path / "jobs")
    local = pool.map(ARCHS)
    assert [r["reward"] for r in local] == [r["reward"] for r in inline]
    assert [r["params"] for r in local] == [r["params"] for r in inline]
    assert [r["cached"] for r in local] == [False, False, False, True, False]
    assert pool.num_trained == 4
    assert local[3]["cost_s"] == 0.0 and local[3]["trained_cost_s"] == local[1]["cost_s"] > 0
    assert len({r["reward"] for r in inline}) > 2  # the children differ: a real comparison


def test_cache_hits_do_not_rerun(tmp_path):
    log = tmp_path / "calls.txt"
    pool = ChildPool(functools.partial(counting_child, log=str(log)))
    first = pool.map([1, 2, 2, 3])
    second = pool.map([3, 4, 1])
    assert log.read_text().split() == ["1", "2", "3", "4"]
    assert pool.num_trained == 4
    assert [r["reward"] for r in first] == [1.0, 4.0, 4.0, 9.0]
    assert [r["cached"] for r in second] == [True, False, True]
    assert all(r["cost_s"] >= 0 for r in first + second)


def test_jsonl_cache_is_reloaded_by_a_new_pool(tmp_path):
    log, cache = tmp_path / "calls.txt", tmp_path / "replay.jsonl"
    fn = functools.partial(counting_child, log=str(log))
    ChildPool(fn, cache_file=cache).map([1, 2])
    lines = [json.loads(line) for line in cache.read_text().splitlines()]
    assert [(e["key"], e["result"]["reward"]) for e in lines] == [("1", 1.0), ("2", 4.0)]
    with cache.open("a") as f:
        f.write('{"key": "9", "res')  # a kill in the middle of a write
    pool = ChildPool(fn, cache_file=cache)
    results = pool.map([2, 1, 5])
    assert [r["cached"] for r in results] == [True, True, False]
    assert pool.num_trained == 1 and log.read_text().split() == ["1", "2", "5"]
    assert set(ChildPool(fn, cache_file=cache).cache) == {"1", "2", "5"}  # torn line ended


def test_unknown_executor_names_the_choices():
    with pytest.raises(NasReproError, match="inline, local, slurm"):
        ChildPool(counting_child, executor="ray")


def test_slurm_parameters_map_to_submitit_names():
    params = slurm_parameters({"partition": "gpu", "gpus_per_node": 1, "time": 30}, 60)
    assert params == {"slurm_partition": "gpu", "gpus_per_node": 1, "timeout_min": 30}
