"""Benchmark: the training-free scores on this machine, as ratios to a reference run.

For each score: cells scored per second, and the ratio of its time to a reference measured
in the same process on the same network and batch (printed beside it): a plain forward pass,
one forward + backward of the loss, or the official implementation's way of computing the
same score, restated here (never in the product):

- NASWOT: search.py's hook logic (``scripts/naswot_official_check.py``: a backward pass for
  ``visited_backwards``, then a forward pass adding float32 ``K`` and ``K2`` products in
  numpy per hooked call), NCHW, as the authors ran it. Same kernel as ours (a test and that
  script check it); "speedup" = reference time / our time.
- zero-cost proxies: zero-cost-nas's ``find_measures`` computes each proxy on its own copy
  of the network; the reference is the six proxies computed one call each, against ours in
  one call (loss-gradient proxies share their passes).
- NTK (TE-NAS ``get_ntk_n``): one ``backward`` per sample with ``retain_graph``, gradients
  read from ``.grad`` of the "weight" parameters, float32 Gram matrix.

Then the wall-clock each reproduction needs, projected from these unit costs (the NASWOT
reuse protocol: its K x M scorings), beside the wall-clock of the canonical records in
``results/``. Each invocation takes a few minutes at ``--cells 3`` on one thread. Run:

    python scripts/benchmark_scores.py --data /path/to/data --cells 3  # data_root
"""

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from common.data.pool import (
    CIFAR10_MEAN_XAUTODL,
    CIFAR10_MEAN_ZC,
    CIFAR10_STD_XAUTODL,
    CIFAR10_STD_ZC,
    experiment_pool,
)
from common.results.record import load_records
from common.scores.device import resolve_device
from common.scores.linear_regions import num_linear_regions
from common.scores.naswot import naswot_score
from common.scores.ntk import ntk_condition_number
from common.scores.zero_cost import PROXIES, zero_cost_scores
from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network
from reproductions.te_nas.supernet import nb201_supernet

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from naswot_official_check import official_hook_logdet  # noqa: E402


def official_ntk_cond(net, x) -> float:
    """TE-NAS ``get_ntk_n`` restated: per-sample backward of the summed logits with
    ``retain_graph``, grads of the "weight" parameters from ``.grad``, float32 Gram."""
    net.train()
    net.zero_grad()
    logit = net(x)
    logit = logit[-1] if isinstance(logit, (tuple, list)) else logit
    rows = []
    for i in range(x.shape[0]):
        logit[i : i + 1].backward(torch.ones_like(logit[i : i + 1]), retain_graph=True)
        g = [
            p.grad.view(-1)
            for n, p in net.named_parameters()
            if "weight" in n and p.grad is not None
        ]
        rows.append(torch.cat(g, -1))
        net.zero_grad()
    grads = torch.stack(rows, 0)
    ntk = torch.einsum("nc,mc->nm", grads, grads)
    eig = torch.linalg.eigvalsh(ntk)
    return float(eig[-1] / eig[0])


def timed(fn, device, warmup: bool = False) -> float:
    """Seconds of one call of ``fn``; ``warmup`` runs it once untimed first (allocator and
    autograd caches, lazy initialisation), so first-call costs do not land in a row."""
    if warmup:
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def forward(net, x):
    with torch.no_grad():
        net(x)


def forward_backward(net, x, y=None):
    out = net(x)
    loss = F.cross_entropy(out, y) if y is not None else out.sum()
    loss.backward()
    net.zero_grad(set_to_none=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--data",
        default="../shared/data",
        help="folder of the images (data_root) or the .npz the training-free experiments read",
    )
    ap.add_argument(
        "--cells", "--archs", type=int, default=3, dest="archs", help="NB-201 cells per row"
    )
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    device = resolve_device(args.device)
    torch.manual_seed(0)
    pool = experiment_pool("naswot_nb201_cifar10-jpeg_n10", args.data)  # the scores' pool
    rng = np.random.default_rng(0)
    archs = [Nb201Arch.sample(random.Random(i)) for i in range(args.archs)]
    rows = []  # (score, s per cell, reference name, reference s)

    x128, _ = pool.batch(rng, 128, CIFAR10_MEAN_XAUTODL, CIFAR10_STD_XAUTODL, device=device)
    nhwc = device.type == "cpu"  # naswot_run's layout on a CPU (channels_last_on_cpu: true)
    x128_nhwc = x128.contiguous(memory_format=torch.channels_last)
    t_score = t_ref = t_nhwc = t_f32 = t_off = 0.0
    for i, arch in enumerate(archs):
        w = i == 0
        net = Nb201Network(arch, 1).to(device)
        t_ref += timed(lambda net=net: forward(net, x128), device, warmup=w)
        t_off += timed(lambda net=net: official_hook_logdet(net, x128), device, warmup=w)
        t_score += timed(lambda net=net: naswot_score(net, x128), device, warmup=w)
        if nhwc:  # the same network, converted in place
            net = net.to(memory_format=torch.channels_last)
            fn = lambda net=net: naswot_score(net, x128_nhwc)  # noqa: E731
            t_nhwc += timed(fn, device, warmup=w)
            fn = lambda net=net: naswot_score(net, x128_nhwc, int8_product=False)  # noqa: E731
            t_f32 += timed(fn, device, warmup=w)
    n = len(archs)
    rows.append(("naswot (NB-201 net, batch 128)", t_score / n, "forward", t_ref / n))
    rows.append(("naswot (NCHW)", t_score / n, "search.py way, NCHW", t_off / n))
    if nhwc:
        name = "naswot-nhwc (channels-last net and batch)"
        rows.append((name, t_nhwc / n, "search.py way, NCHW", t_off / n))
        name = "naswot-nhwc-f32 (K product in float32)"
        rows.append((name, t_f32 / n, "naswot-nhwc", t_nhwc / n))

    x64, y64 = pool.batch(rng, 64, CIFAR10_MEAN_ZC, CIFAR10_STD_ZC, True, device=device)
    per_proxy = {p: 0.0 for p in (*PROXIES, "all six")}
    t_ref = 0.0
    for i, arch in enumerate(archs):
        net = Nb201Network(arch, 10).to(device)
        w = i == 0
        t_ref += timed(lambda net=net: forward_backward(net, x64, y64), device, w)
        for p in PROXIES:
            fn = lambda net=net, p=p: zero_cost_scores(net, x64, y64, [p])  # noqa: E731
            per_proxy[p] += timed(fn, device, w)
        per_proxy["all six"] += timed(lambda net=net: zero_cost_scores(net, x64, y64), device, w)
    one_each = sum(per_proxy[p] for p in PROXIES)
    rows.append(("all six, one call", per_proxy["all six"] / n, "one call per proxy", one_each / n))
    for p, t in per_proxy.items():
        rows.append(
            (
                f"{p} (NB-201 net, batch 64)",
                t / len(archs),
                "fwd+bwd of the loss",
                t_ref / len(archs),
            )
        )

    s = {"mean": CIFAR10_MEAN_XAUTODL, "std": CIFAR10_STD_XAUTODL}
    supernet = nb201_supernet(3, 1, 10).to(device)
    x72, _ = pool.batch(rng, 72, s["mean"], s["std"], True, device=device)
    t_ref = timed(lambda: forward_backward(supernet, x72), device, warmup=True)
    t_ntk = timed(lambda: ntk_condition_number(supernet, x72), device)
    rows.append(("ntk_cond (TE-NAS supernet C=3, batch 72)", t_ntk, "fwd+bwd", t_ref))
    t_off = timed(lambda: official_ntk_cond(supernet, x72), device)
    rows.append(("ntk_cond", t_ntk, "get_ntk_n way", t_off))
    thin = nb201_supernet(1, 1, 10, use_stem=False, depth=1).to(device)
    crops = pool.crops(rng, 3000, s["mean"], s["std"], device=device)
    t_ref = timed(lambda: forward(thin, crops), device, warmup=True)
    t_lr = timed(lambda: num_linear_regions(thin, crops, batch_size=1000), device, warmup=True)
    rows.append(("linear_regions (thin supernet, 3000 crops)", t_lr, "forward", t_ref))

    print(f"device: {device}, {torch.get_num_threads()} threads; {args.archs} cells per row")
    print("ratio: our time / the reference's; speedup: the reference's / ours")
    head = f"{'score':44s} {'s/cell':>7s} {'cells/s':>7s} {'reference':>20s} {'ref s':>7s}"
    print(f"{head} {'ratio':>6s} {'speedup':>7s}")
    for name, t, ref_name, ref in rows:
        print(
            f"{name:44s} {t:7.3f} {1 / t:7.2f} {ref_name:>20s} {ref:7.3f}"
            f" {t / ref:6.2f} {ref / t:7.2f}"
        )

    unit = {r[0].split(" ")[0]: r[1] for r in rows}
    naswot = unit.get("naswot-nhwc", unit["naswot"])  # the layout the searches use here
    te_nas_search = 3 * 57 * (unit["ntk_cond"] + unit["linear_regions"])  # 3 repeats x (54 + 3)
    projections = {
        "zero-cost-proxies_nb201_cifar10-jpeg (15,625 cells)": 15625 * unit["all"],
        "zero-cost-proxies_nb201_cifar10-jpeg_n500_reduced": 500 * unit["all"],
        "zero-cost-proxies_nb201_cifar10-jpeg_n20_reduced": 20 * unit["all"],
        "naswot_nb201_cifar10-jpeg_n10 (500 x 10 cells)": 5000 * naswot,
        "naswot_nb201_cifar10-jpeg_n100 (500 x 100 cells)": 50000 * naswot,
        "naswot_nb201_cifar10-jpeg_n1000 (500 x 1000 cells)": 500000 * naswot,
        "naswot_nb201_cifar10-jpeg_n10_reduced (20 x 10)": 200 * naswot,
        "naswot_nb201_cifar10-jpeg_n100_reduced (20 x 100)": 2000 * naswot,
        "naswot_nb201_cifar10-jpeg_n1000_reduced (1 x 1000)": 1000 * naswot,
        "te-nas_nb201_cifar10-jpeg (4 searches)": 4 * te_nas_search,
        "naswot_nb201_cifar10-jpeg_n{10,100,1000}_reuse_reduced (K x M = 2 x 7,500)": (
            2 * 7500 * naswot
        ),
        "  the same with every cell and K = 2 (2 x 15,625)": 2 * 15625 * naswot,
    }
    measured: dict[str, list[str]] = {}
    for rec in load_records(REPO / "results"):  # withdrawn records are skipped
        if rec.get("paper") in ("zero_cost_proxies", "naswot", "te_nas"):
            wall, dev = rec["cost"]["wall_clock_s"], rec["device"]
            line = f"{wall:.0f} s ({dev}, seed {rec['seed']})"
            measured.setdefault(rec["experiment"], []).append(line)
    print("\nreproduction wall-clock: projected here from the unit costs | canonical records")
    for name, sec in projections.items():
        exp = name.split(" ")[0]
        runs = _summary(measured.pop(exp, ["none"]))
        print(f"{name:55s} {sec / 3600:8.2f} h | {runs}")
    for exp, runs in sorted(measured.items()):  # not projected: e.g. the DARTS-space search
        print(f"{exp:55s} {'':>8s}   | {_summary(runs)}")


def _summary(lines: list[str]) -> str:
    """Up to 4 records in full; more as a count and the range of their wall-clock."""
    if len(lines) <= 4:
        return "; ".join(lines)
    secs = sorted(float(line.split(" s ")[0]) for line in lines)
    return f"{len(lines)} records, {secs[0]:.0f}-{secs[-1]:.0f} s each"


if __name__ == "__main__":
    main()
