"""Benchmark: cost of a DARTS search step against a plain supernet pass, in one process.

At the paper's search configuration (DARTS space: 8 cells, 16 channels, batch 64, 32x32;
or NB-201: C=16, N=5) it times, on the same network and batches:
  - reference: one plain forward+backward of the supernet (weights' gradients),
  - a first-order search step (architecture step + weight step: about 2 passes),
  - a second-order search step (unrolled step, validation at w', two finite-difference
    passes for the Hessian-vector product, weight step: about 5 passes),
and prints each one's time and its ratio to the reference. Peak memory: each mode is run
again in a child process and its peak resident memory (CPU) or peak allocated GPU memory
is reported beside the reference's.

    python scripts/benchmark_darts_search.py [--space darts|nb201] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import threading
import time

import torch
from torch.nn import functional as F

MODES = ("plain", "first", "second")


def build(space: str, device: str, batch: int):
    torch.manual_seed(0)
    if space == "darts":
        from common.supernets.darts import DartsSupernet

        net = DartsSupernet(C=16, num_classes=10, layers=8)
    else:
        from common.supernets.nb201 import Nb201Supernet

        net = Nb201Supernet(num_classes=10, channels=16, cells_per_stage=5, affine=False)
    net = net.to(device).train()
    g = torch.Generator().manual_seed(1)
    make = lambda: (  # noqa: E731
        torch.randn(batch, 3, 32, 32, generator=g).to(device),
        torch.randint(0, 10, (batch,), generator=g).to(device),
    )
    return net, make(), make()


def step_fn(mode: str, net, train, val):
    from reproductions.darts.search_module import search_step

    w_opt = torch.optim.SGD(net.weight_parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
    a_opt = torch.optim.Adam(net.arch_parameters(), lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)

    def plain():
        for a in net.arch_parameters():
            a.requires_grad_(False)
        net.zero_grad(set_to_none=True)
        F.cross_entropy(net(train[0]), train[1]).backward()
        for a in net.arch_parameters():
            a.requires_grad_(True)

    def search(order: str):
        return lambda: search_step(
            net, w_opt, a_opt, train, val, 0.025, order, True, 0.9, 3e-4, 5.0
        )

    return {"plain": plain, "first": search("first"), "second": search("second")}[mode]


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_mode(mode, net, train, val, device, repeats) -> float:
    fn = step_fn(mode, net, train, val)
    fn()  # warm-up (and optimizer state, so the second-order step sees momentum buffers)
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def current_rss_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def peak_memory_child(args, mode, queue) -> None:
    torch.set_num_threads(args.threads)
    net, train, val = build(args.space, args.device, args.batch)
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    fn = step_fn(mode, net, train, val)
    base = current_rss_kib()
    peak = [base]
    done = threading.Event()

    def sample() -> None:  # ru_maxrss would report the process's earlier peaks too
        while not done.is_set():
            peak[0] = max(peak[0], current_rss_kib())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    fn()
    done.set()
    sampler.join()
    if args.device == "cuda":
        queue.put(torch.cuda.max_memory_allocated() / 2**20)
    else:
        queue.put((peak[0] - base) / 1024)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--space", choices=("darts", "nb201"), default="darts")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    net, train, val = build(args.space, args.device, args.batch)
    times = {m: time_mode(m, net, train, val, args.device, args.repeats) for m in MODES}
    ctx = mp.get_context("spawn")
    memory = {}
    for m in MODES:
        q = ctx.Queue()
        p = ctx.Process(target=peak_memory_child, args=(args, m, q))
        p.start()
        memory[m] = q.get()
        p.join()
    unit = "peak GPU MiB allocated" if args.device == "cuda" else "peak RSS above start MiB"
    print(
        f"{args.space} supernet, batch {args.batch}, 32x32, {args.device}, {args.threads} threads"
    )
    print(f"{'mode':8s} {'time s':>8s} {'x plain':>8s} {unit:>24s} {'x plain':>8s}")
    for m in MODES:
        print(
            f"{m:8s} {times[m]:8.3f} {times[m] / times['plain']:8.2f} {memory[m]:24.0f}"
            f" {memory[m] / memory['plain']:8.2f}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "time_s": times, "memory_mib": memory}, f, indent=1)


if __name__ == "__main__":
    main()
