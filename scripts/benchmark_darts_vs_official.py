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

Whether a float32 difference is rounding or a different step: ``--dtype float64`` runs both
sides in double precision, where the same step agrees to 1e-13 or closer even through the
second-order finite difference; ``--against-float64`` adds the reference run in float64 and
judges every float32 implementation, the reference's own included, against it, so that ours
and theirs show their distance from the exact step side by side.

    python scripts/benchmark_darts_vs_official.py --batch 32 --rounds 2 --threads 1
"""

from __future__ import annotations

import argparse
import contextlib
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

from common.errors import NasReproError  # noqa: E402
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
        return [a.detach() for a in self.net.arch_parameters()]

    def arch_grads(self):  # the last architecture step's gradient (left in .grad by search_step)
        return [a.grad.detach() for a in self.net.arch_parameters()]

    def weights(self):
        return list(self.net.weight_parameters())


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype):
    """The reference builds its unrolled network with ``Network(...)``: in float64 that
    network must come out in float64 too."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


class Reference:
    def __init__(self, search: ref_code.Search, dtype: torch.dtype | None = None) -> None:
        self.search, self.dtype = search, dtype or torch.get_default_dtype()
        if self.dtype != torch.get_default_dtype():
            search.model.to(self.dtype)
            for a in search.model.arch_parameters():  # plain tensors, not module parameters
                a.data = a.data.to(self.dtype)
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

    def batch(self, b):
        return b[0].to(self.dtype), b[1]

    def plain(self, train, val) -> None:
        with default_dtype(self.dtype):
            self.search.plain(*self.batch(train))

    def step(self, train, val, order: str) -> None:
        with default_dtype(self.dtype):
            self.search.step(self.batch(train), self.batch(val), LR, unrolled=order == "second")

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
        float((x.detach().double() - y.detach().double()).abs().max())
        for x, y in zip(a, b, strict=True)
    )


def compare(mode: str, ref, ours) -> dict[str, object]:
    """How far ``ours`` ended from ``ref`` after the same steps (see the module docstring)."""
    if mode == "plain":
        return {
            "max_grad_diff": max_diff(
                [p.grad for p in ref.weights()], [p.grad for p in ours.weights()]
            )
        }
    ref_alphas = [a.double() for a in ref.alphas()]
    our_alphas = [a.double() for a in ours.alphas()]
    alpha_diff = torch.cat(
        [(a - b).abs().flatten() for a, b in zip(ref_alphas, our_alphas, strict=True)]
    )
    g_ref = torch.cat([g.double().flatten() for g in ref.arch_grads()])
    g_ours = torch.cat([g.double().flatten() for g in ours.arch_grads()])
    scale = float(g_ref.abs().max())
    off = alpha_diff > 1e-5  # Adam moved these apart: see the module docstring
    return {
        "max_alpha_diff": float(alpha_diff.max()),
        "alphas_off": f"{int(off.sum())}/{off.numel()}",
        "grad_rel_err": float((g_ref - g_ours).abs().max()) / scale,
        "their_grad_rel": float(g_ref[off].abs().max()) / scale if off.any() else 0.0,
        "max_weight_diff": max_diff(ref.weights(), ours.weights()),
        "same_genotype": derive_genotype(*ref.alphas()) == derive_genotype(*ours.alphas()),
    }


def shown(num: dict[str, object]) -> str:
    return ", ".join(f"{k}={v:.1e}" if isinstance(v, float) else f"{k}={v}" for k, v in num.items())


EXACT = "reference@float64"


def build_parser() -> argparse.ArgumentParser:
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
    ap.add_argument(
        "--dtype", choices=("float32", "float64"), default="float32", help="both sides' dtype"
    )
    ap.add_argument(
        "--against-float64",
        action="store_true",
        help="also run the reference in float64 and judge each float32 implementation by it",
    )
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--official", help="a quark0/darts checkout: use its model_search.py")
    ap.add_argument("--json", help="also write the figures to this file")
    return ap


def check_args(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse (``ap.error``) modes and speed options the benchmark does not know."""
    unknown = set(args.modes.split(",")) - set(MODES)
    if unknown:
        ap.error(f"--modes {','.join(sorted(unknown))}: valid: {', '.join(MODES)}")
    for opt in args.options.split(","):
        try:
            parse_option(opt, args.precision)
        except NasReproError as e:
            ap.error(f"--options {opt}: {e}")
    if args.dtype == "float64" and (args.precision != "fp32" or args.against_float64):
        ap.error("--dtype float64 takes neither --precision bf16 nor --against-float64")


def main() -> None:
    ap = build_parser()
    args = ap.parse_args()
    check_args(ap, args)
    if args.device == "cpu" and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        os.environ["MALLOC_MMAP_THRESHOLD_"] = "65536"  # RSS that follows the live tensors
        os.execv(sys.executable, [sys.executable, *sys.argv])
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(getattr(torch, args.dtype))
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
        if args.against_float64:
            impls[mode][EXACT] = Reference(copy.deepcopy(base_ref), torch.float64)
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

    numerics = {m: {} for m in modes}  # ours against the reference
    exact = {m: {} for m in modes}  # every float32 implementation against the float64 reference
    for mode in modes:
        for name in options:
            numerics[mode][name] = compare(mode, impls[mode]["reference"], impls[mode][name])
        if EXACT in impls[mode]:
            for name in ["reference", *options]:
                exact[mode][name] = compare(mode, impls[mode][EXACT], impls[mode][name])

    med = {
        m: {n: [statistics.median(x) for x in zip(*v)] for n, v in times[m].items()} for m in modes
    }  # mode -> implementation -> [wall, cpu]
    unit = "peak GPU MiB" if args.device == "cuda" else "peak MiB (RSS)"
    timed = f"median of {args.rounds} rounds after a warm-up" if args.rounds else "one round"
    reference = f"official checkout {args.official}" if args.official else "darts_reference.py"
    print(
        f"DARTS search, {args.layers} cells, C={args.C}, batch {args.batch}, {args.size}x{args.size},"
        f" {args.device}, {args.threads} thread(s), {args.dtype}, {args.precision};"
        f" reference: {reference}; {timed}"
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
            print(
                f"{mode:6s} {name:16s} {cpu:7.2f} {ref_cpu / cpu:8.2f} {wall:7.2f}"
                f" {ref_wall / wall:8.2f} {mem:14.0f} {rel}  {shown(numerics[mode].get(name, {}))}"
            )
    if args.against_float64:
        print(f"against the reference in float64 after {len(batches)} steps")
        for mode in modes:
            for name, num in exact[mode].items():
                print(f"{mode:6s} {name:16s} {shown(num)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "args": vars(args),
                    "times_s": times,
                    "median_s": med,
                    "memory_mib": memory,
                    "numerics": numerics,
                    "against_float64": exact if args.against_float64 else None,
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
