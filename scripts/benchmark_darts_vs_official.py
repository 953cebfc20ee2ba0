"""Benchmark: our DARTS search against the authors' code, side by side in one process.

The reference is the authors' search step (quark0/darts @ f276dd3) re-stated for torch 2.x
in ``scripts/darts_reference.py`` (or, with ``--official <checkout>``, their own
``model_search.py`` and ``operations.py`` under that re-stated architect). Ours is
``DartsSupernet`` + ``reproductions.darts.search_module.search_step`` under each speed option
asked for (``--options``: ``contiguous``, ``channels_last``, ``channels_last+compile``...).

Every network starts from the same state (the reference's weights, BN statistics and alphas
copied into ours) and sees the same batches. Three modes, each on its own copies:

- ``plain``: the weight step's forward+backward (no optimiser step): the reference as the
  authors' loop runs it (``loss.backward()``, the alphas' gradients included), ours as our
  weight step runs it;
- ``first``: one first-order search step (architecture step, then weight step);
- ``second``: one second-order search step (unrolled, Hessian-vector product, weight step).

Round 0 is a warm-up that also samples each step's peak memory (RSS above the step's start on
CPU, with glibc told to give large blocks back at once, so RSS follows live memory; peak
allocated on CUDA); rounds 1..R are timed, all modes and implementations interleaved in each
round, so that a load change on a shared machine hits them alike. The ratio is the reference's
median over ours. Numerics: after the R + 1 steps of each mode, the largest alpha and weight
difference against the reference and whether the derived genotypes are the same (``plain``:
the largest weight-gradient difference). Adam's first steps move every alpha by about its
learning rate whatever the size of its gradient, so an entry whose gradient is at rounding
level can step the other way in one implementation: ``alphas_off`` counts the entries more
than 1e-5 apart, ``their_grad_rel`` gives their largest gradient relative to the largest
gradient (rounding level if tiny), ``grad_rel_err`` the last architecture gradient's largest
difference relative to the largest gradient. With ``--precision bf16`` ours runs under bf16
autocast and the alpha difference against the fp32 reference is reported, not judged.

    python scripts/benchmark_darts_vs_official.py --batch 32 --rounds 2 --threads 1
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import darts_reference as ref_code  # noqa: E402

from common.speed import Speed  # noqa: E402
from common.supernets.darts import DartsSupernet, derive_genotype  # noqa: E402
from reproductions.darts.search_module import search_step  # noqa: E402

MODES = ("plain", "first", "second")
LR, MOMENTUM, WD, CLIP = 0.025, 0.9, 3e-4, 5.0  # train_search.py defaults (epoch 0's lr)


def parse_option(name: str, precision: str) -> Speed:
    parts = name.split("+")
    return Speed(memory_format=parts[0], compile="compile" in parts[1:], precision=precision)


def copy_state(ref_model: nn.Module, net: DartsSupernet) -> None:
    """The reference's weights, BN buffers and alphas into ours, matched by order (both
    register their modules in the authors' order; ``none`` holds nothing in either)."""
    pairs = [
        (list(ref_model.parameters()), list(net.weight_parameters())),
        (list(ref_model.buffers()), list(net.buffers())),
        (ref_model.arch_parameters(), [net.mixer.alphas["normal"], net.mixer.alphas["reduce"]]),
    ]
    with torch.no_grad():
        for src, dst in pairs:
            assert len(src) == len(dst), (len(src), len(dst))
            for s, d in zip(src, dst, strict=True):
                assert s.shape == d.shape, (s.shape, d.shape)
                d.copy_(s)


class Ours:
    def __init__(self, net: DartsSupernet, speed: Speed, device: str) -> None:
        self.net, self.speed, self.device = speed.module(net), speed, device
        self.w_opt = torch.optim.SGD(
            net.weight_parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD
        )
        self.a_opt = torch.optim.Adam(
            net.arch_parameters(), lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3
        )
        self.forward = torch.compile(net) if speed.compile else net

    def batch(self, b):
        return self.speed.tensor(b[0]), b[1]

    def plain(self, train, val) -> None:
        x, y = self.batch(train)
        arch = self.net.arch_parameters()
        for a in arch:
            a.requires_grad_(False)
        self.net.zero_grad(set_to_none=True)
        with self.speed.autocast(self.device):
            loss = F.cross_entropy(self.forward(x), y)
        loss.backward()
        for a in arch:
            a.requires_grad_(True)

    def step(self, train, val, order: str) -> None:
        with self.speed.autocast(self.device):
            search_step(
                self.net, self.w_opt, self.a_opt, self.batch(train), self.batch(val), LR, order,
                True, MOMENTUM, WD, CLIP,
            )  # fmt: skip

    def alphas(self):
        return [a.detach().float() for a in self.net.arch_parameters()]

    def arch_grads(self):  # the last architecture step's gradient (left in .grad by search_step)
        return [a.grad.detach().float() for a in self.net.arch_parameters()]

    def weights(self):
        return list(self.net.weight_parameters())


class Reference:
    def __init__(self, search: ref_code.Search) -> None:
        self.search = search
        self.last_grads: list[torch.Tensor] = []
        adam = search.architect.optimizer
        adam_step = adam.step

        def step():  # the weight step adds to the alphas' .grad: keep the architect's gradient
            self.last_grads = [
                torch.zeros_like(a) if a.grad is None else a.grad.detach().clone()
                for a in search.model.arch_parameters()
            ]
            adam_step()

        adam.step = step

    def plain(self, train, val) -> None:
        self.search.plain(*train)

    def step(self, train, val, order: str) -> None:
        self.search.step(train, val, LR, unrolled=order == "second")

    def alphas(self):
        return [a.detach() for a in self.search.model.arch_parameters()]

    def arch_grads(self):
        return self.last_grads

    def weights(self):
        return list(self.search.model.parameters())


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def run(fn, device: str, memory: bool) -> tuple[tuple[float, float], float | None]:
    """(wall seconds, main-thread CPU seconds) of ``fn()`` and, if ``memory``, its peak memory
    in MiB above its start."""
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base_gpu = torch.cuda.memory_allocated()
    base, peak, done = rss_kib(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample) if memory and device == "cpu" else None
    if sampler:
        sampler.start()
    start, start_cpu = time.perf_counter(), time.thread_time()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    elapsed = (time.perf_counter() - start, time.thread_time() - start_cpu)
    done.set()
    if sampler:
        sampler.join()
    if not memory:
        return elapsed, None
    if device == "cuda":
        return elapsed, (torch.cuda.max_memory_allocated() - base_gpu) / 2**20
    return elapsed, max(peak[0] - base, 0) / 1024


def max_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max(
        float((x.detach().float() - y.detach().float()).abs().max())
        for x, y in zip(a, b, strict=True)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--size", type=int, default=32, help="image side (CIFAR: 32)")
    ap.add_argument(
        "--rounds", type=int, default=2, help="timed rounds after the warm-up (0: time the warm-up)"
    )
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument(
        "--options", default="channels_last", help="ours: comma-separated speed options"
    )
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--official", help="a quark0/darts checkout: use its model_search.py")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if args.device == "cpu" and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        os.environ["MALLOC_MMAP_THRESHOLD_"] = "65536"  # RSS that follows the live tensors
        os.execv(sys.executable, [sys.executable, *sys.argv])
    torch.set_num_threads(args.threads)
    modes = args.modes.split(",")
    options = args.options.split(",")
    if args.official:
        ref_code.use_official(args.official, args.device)

    torch.manual_seed(0)
    base_ref = ref_code.Search(args.C, 10, args.layers)
    base_ref.model.to(args.device)
    g = torch.Generator().manual_seed(1)
    batches = [
        tuple(
            (
                torch.randn(args.batch, 3, args.size, args.size, generator=g).to(args.device),
                torch.randint(0, 10, (args.batch,), generator=g).to(args.device),
            )
            for _ in range(2)
        )
        for _ in range(args.rounds + 1)
    ]
    impls: dict[str, dict[str, object]] = {}  # mode -> name -> implementation, fresh copies
    for mode in modes:
        impls[mode] = {"reference": Reference(copy.deepcopy(base_ref))}
        for opt in options:
            net = DartsSupernet(C=args.C, num_classes=10, layers=args.layers).to(args.device)
            copy_state(base_ref.model, net)
            impls[mode][opt] = Ours(net, parse_option(opt, args.precision), args.device)

    times = {m: {n: [] for n in impls[m]} for m in modes}
    memory = {m: {} for m in modes}
    for r, (train, val) in enumerate(batches):
        for mode in modes:
            for name, impl in impls[mode].items():
                fn = (lambda i=impl: i.plain(train, val)) if mode == "plain" else (
                    lambda i=impl, o=mode: i.step(train, val, o)
                )  # fmt: skip
                t, mem = run(fn, args.device, memory=r == 0)
                if r == 0:
                    memory[mode][name] = mem
                if r > 0 or args.rounds == 0:
                    times[mode][name].append(t)
                print(
                    f"round {r} {mode:6s} {name:24s} wall {t[0]:7.2f} s, cpu {t[1]:7.2f} s",
                    file=sys.stderr,
                    flush=True,
                )

    numerics = {m: {} for m in modes}
    for mode in modes:
        ref = impls[mode]["reference"]
        for name in options:
            ours = impls[mode][name]
            if mode == "plain":
                grads = ([p.grad for p in ref.weights()], [p.grad for p in ours.weights()])
                numerics[mode][name] = {"max_grad_diff": max_diff(*grads)}
            else:
                same = derive_genotype(*ref.alphas()) == derive_genotype(*ours.alphas())
                alpha_diff = torch.cat(
                    [
                        (a - b).abs().flatten()
                        for a, b in zip(ref.alphas(), ours.alphas(), strict=True)
                    ]
                )
                g_ref = torch.cat([g.flatten() for g in ref.arch_grads()])
                g_ours = torch.cat([g.flatten() for g in ours.arch_grads()])
                scale = float(g_ref.abs().max())
                off = alpha_diff > 1e-5  # Adam moved these apart: see the module docstring
                numerics[mode][name] = {
                    "max_alpha_diff": float(alpha_diff.max()),
                    "alphas_off": f"{int(off.sum())}/{off.numel()}",
                    "grad_rel_err": float((g_ref - g_ours).abs().max()) / scale,
                    "their_grad_rel": float(g_ref[off].abs().max()) / scale if off.any() else 0.0,
                    "max_weight_diff": max_diff(ref.weights(), ours.weights()),
                    "same_genotype": same,
                }

    med = {
        m: {n: [statistics.median(x) for x in zip(*v)] for n, v in times[m].items()} for m in modes
    }  # mode -> implementation -> [wall, cpu]
    unit = "peak GPU MiB" if args.device == "cuda" else "peak MiB (RSS)"
    timed = f"median of {args.rounds} rounds after a warm-up" if args.rounds else "one round"
    reference = f"official checkout {args.official}" if args.official else "darts_reference.py"
    print(
        f"DARTS search, {args.layers} cells, C={args.C}, batch {args.batch}, {args.size}x{args.size},"
        f" {args.device}, {args.threads} thread(s), {args.precision}; reference: {reference}; {timed}"
    )
    print(
        f"{'mode':6s} {'implementation':16s} {'cpu s':>7s} {'ref/ours':>8s} {'wall s':>7s}"
        f" {'ref/ours':>8s} {unit:>14s} {'x plain':>7s}  vs reference after {len(batches)} steps"
    )
    for mode in modes:
        for name in impls[mode]:
            (wall, cpu), (ref_wall, ref_cpu) = med[mode][name], med[mode]["reference"]
            mem = memory[mode][name]
            base = memory["plain"].get(name) if "plain" in memory else None
            rel = f"{mem / base:7.2f}" if base else f"{'-':>7s}"
            num = ", ".join(
                f"{k}={v:.1e}" if isinstance(v, float) else f"{k}={v}"
                for k, v in numerics[mode].get(name, {}).items()
            )
            print(
                f"{mode:6s} {name:16s} {cpu:7.2f} {ref_cpu / cpu:8.2f} {wall:7.2f}"
                f" {ref_wall / wall:8.2f} {mem:14.0f} {rel}  {num}"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "args": vars(args),
                    "times_s": times,
                    "median_s": med,
                    "memory_mib": memory,
                    "numerics": numerics,
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
