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

``--breakdown``: where a step's time goes. Per phase of each step (the ``darts/<phase>``
ranges of ``common/search/darts_bilevel.py`` and ``search_step``) it prints the wall time (the
device synchronised at each phase bound) and the operators dispatched that launch work (every
call at the dispatcher less views, detaches and allocations; a foreach call counts once). On
a GPU each is at least one kernel launch, a cost that does not shrink with the batch: a step
that dispatches k times the plain pass's operators costs about k passes where launches
dominate, however little arithmetic each does; ``us/op`` is wall time over operators.

    python scripts/benchmark_darts_search.py [--space darts|nb201] [--device cpu|cuda]
        [--breakdown]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import statistics
import threading
import time
from collections import Counter

import torch
from torch.nn import functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from common.speed import sync

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


# operators that launch no device work: views, aliases, allocations, metadata
NO_WORK = frozenset(
    (
        "view _unsafe_view _reshape_alias reshape alias as_strided detach detach_ select slice"
        " expand permute t transpose unsqueeze squeeze flatten unflatten split split_with_sizes"
        " chunk narrow unbind lift_fresh resolve_conj resolve_neg empty empty_strided"
        " empty_like set_ requires_grad_ result_type is_same_size sym_size sym_stride"
        " sym_numel sym_storage_offset"
    ).split()
)


class OpCounter(TorchDispatchMode):
    """Counts the operators that launch work, per the phase on top of ``self.phase``. One
    call at the dispatcher counts once: a foreach operator is one (on CUDA, a few fused
    kernels), whatever the CPU does below it. The autograd engine carries the mode to the
    threads that run backward passes."""

    def __init__(self) -> None:
        super().__init__()
        self.phase: list[str] = []
        self.counts: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.__name__.split(".")[0] not in NO_WORK:
            for phase in self.phase:
                self.counts[phase] += 1
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def phase_probe(device: str, times: dict[str, float], counter: OpCounter | None):
    """Time the ``darts/<phase>`` ranges of the step's modules (``record_function``, replaced
    here by a timer that synchronises the device at each bound) and mark them in
    ``counter``."""
    import common.search.darts_bilevel as bilevel
    import reproductions.darts.search_module as search_module

    @contextlib.contextmanager
    def timed(name: str):
        phase = name.removeprefix("darts/")
        sync(device)
        start = time.perf_counter()
        if counter is not None:
            counter.phase.append(phase)
        try:
            yield
        finally:
            if counter is not None:
                counter.phase.pop()
            sync(device)
            times[phase] = times.get(phase, 0.0) + time.perf_counter() - start

    saved = bilevel.record_function, search_module.record_function
    bilevel.record_function = search_module.record_function = timed
    try:
        yield timed
    finally:
        bilevel.record_function, search_module.record_function = saved


def breakdown(mode, net, train, val, device, repeats: int) -> list[dict]:
    """Where one step of ``mode`` goes: per ``darts/`` phase (in the order the step runs
    them), then the whole step, its wall seconds (the median of ``repeats`` steps, the
    device synchronised at every phase bound) and the operators it dispatches (one more
    step, counted)."""
    fn = step_fn(mode, net, train, val)
    fn()  # warm-up, optimiser state

    def one_step(counter: OpCounter | None) -> dict[str, float]:
        times: dict[str, float] = {}
        with phase_probe(device, times, counter) as timed:
            with counter or contextlib.nullcontext(), timed("darts/step"):
                if mode == "plain":  # not a search step: one range of its own
                    with timed("darts/plain_pass"):
                        fn()
                else:
                    fn()
        return times

    runs = [one_step(None) for _ in range(repeats)]
    counter = OpCounter()
    one_step(counter)
    phases = [p for p in runs[0] if p != "step"] + ["step"]
    wall = {p: statistics.median(r[p] for r in runs) for p in phases}
    return [{"phase": p, "wall_s": wall[p], "ops": counter.counts[p]} for p in phases]


def print_breakdown(space: str, device: str, tables: dict[str, list[dict]]) -> None:
    plain = tables["plain"][-1]
    print(f"\nbreakdown ({space}, {device}; the device synchronised at each phase bound)")
    print(
        f"{'mode':7s} {'phase':17s} {'wall s':>8s} {'x plain':>8s} {'ops':>7s} {'x plain':>8s}"
        f" {'us/op':>7s}"
    )
    for mode, rows in tables.items():
        for r in rows:
            per_op = 1e6 * r["wall_s"] / max(r["ops"], 1)
            print(
                f"{mode:7s} {r['phase']:17s} {r['wall_s']:8.3f} {r['wall_s'] / plain['wall_s']:8.2f}"
                f" {r['ops']:7d} {r['ops'] / plain['ops']:8.2f} {per_op:7.1f}"
            )


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


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--space", choices=("darts", "nb201"), default="darts")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--breakdown", action="store_true", help="also profile each step's phases")
    ap.add_argument("--json", help="also write the figures to this file")
    return ap


def main() -> None:
    args = build_parser().parse_args()
    torch.set_num_threads(args.threads)
    net, train, val = build(args.space, args.device, args.batch)
    times = {m: time_mode(m, net, train, val, args.device, args.repeats) for m in MODES}
    phases = {}
    if args.breakdown:
        phases = {m: breakdown(m, net, train, val, args.device, args.repeats) for m in MODES}
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
    if phases:
        print_breakdown(args.space, args.device, phases)
    if args.json:
        out = {"args": vars(args), "time_s": times, "memory_mib": memory}
        if phases:
            out["breakdown"] = phases
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
