"""Benchmark: training throughput of the retrain networks and the single-path supernets under
each speed option (``common/speed.py``), against the default layout in eager mode, in one
process.

A training step is what the training modules do: forward, cross-entropy (plus 0.4 x the
auxiliary head's where the network has one), backward, one SGD step (momentum 0.9, weight
decay 3e-4), on one fixed batch (``--batch`` images, 32x32, 10 classes). Networks:

- ``darts``: the DARTS-space evaluation network, DARTS V2 genotype, C=36, 20 cells, auxiliary
  head, drop-path 0.2 (``--quick``: C=16, 8 cells);
- ``nb201``: the NB-201 network of one fixed cell (the best CIFAR-10 cell), C=16, N=5;
- single-path supernets, a new path every step from a fixed pool of ``--paths`` paths (each
  warmed up before timing): ``spos-macro`` (NAS-Bench-Macro, one uniform path: SPOS),
  ``fairnas-macro`` (a strict-fair step: 3 paths on the batch, gradients summed, one update:
  FairNAS; its images/s counts the batch once), ``spos-nb201`` (NB-201, C=16, N=5), and ENAS's
  shared networks ``enas-micro`` (C=20, 6+2 layers, 5-node cells, auxiliary head) and
  ``enas-macro`` (12 layers, 36 filters, 6 branches), a random child each step.

Variants: ``eager`` (default layout, the reference), ``channels_last`` (NHWC, with
``SummedBatchNorm2d`` as runs have it), ``channels_last_native_bn`` (NHWC with PyTorch's own
BatchNorm, ``speed.batchnorm=native``; not run unless named), ``compile``
(``torch.compile`` of the fixed network's forward; for a supernet every candidate op
compiled on its own, ``compile_ops``, as ``SinglePathSupernetModule`` does; compile time
is spent before the timed rounds, reported as warm-up), ``bf16`` (autocast; float32
weights and optimiser).
Every variant trains its own copy of the same initial weights. Timing: ``--rounds`` rounds,
each runs every variant's ``--steps`` steps in a fresh random order (load from elsewhere hits
all alike); the speed-up of a variant is the median over rounds of eager time / its time in
the round. Peak memory of one step per variant: the largest sum of live bytes allocated
during the step above what was allocated before it (torch profiler allocation events on
CPU, ``max_memory_allocated`` on CUDA), against eager's. Numerics: ``--check-steps`` SGD
steps of every variant from the same weights on the same batches and paths; the last loss's
difference from eager fp32 (channels_last and compile: rounding only; bf16: its effect).
A variant's BatchNorm choice only matters on the CPU: on CUDA both NHWC variants are the same.

    python scripts/benchmark_throughput.py [--nets darts,nb201,...] [--quick] [--device cuda]
        [--variants eager,channels_last,compile,bf16] [--rounds 3] [--steps 2] [--json f]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from common.speed import Speed, peak_mib, sync
from common.supernets.enas_macro import EnasMacroNet
from common.supernets.enas_micro import EnasMicroNet
from common.supernets.macro import MacroSupernet
from common.supernets.mixers import SinglePathMixer
from common.supernets.nb201 import Nb201Supernet
from common.training.single_path import compile_ops

NETS = ("darts", "nb201", "spos-macro", "fairnas-macro", "spos-nb201", "enas-micro", "enas-macro")
VARIANTS = ("eager", "channels_last", "channels_last_native_bn", "compile", "bf16")
DEFAULT_VARIANTS = tuple(v for v in VARIANTS if v != "channels_last_native_bn")
AUX_WEIGHT = 0.4  # DARTS train.py --auxiliary_weight; ENAS micro_child.py aux loss weight
BEST_NB201 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


class Bench:
    """A network to train and, for a supernet, how to draw the paths of one step and set one
    (``ops``: the op names of its candidate ``ModuleDict``s, for ``compile_ops``). A plain
    class: the script is loaded without a package, where dataclasses cannot resolve it."""

    def __init__(
        self,
        net: nn.Module,
        draw: Callable[[random.Random], list] = lambda rng: [None],
        apply: Callable[[nn.Module, object], None] = lambda net, path: None,
        ops: tuple[str, ...] = (),
    ) -> None:
        self.net, self.draw, self.apply, self.ops = net, draw, apply, tuple(ops)


def strict_fair(mixer: SinglePathMixer, rng: random.Random) -> list[dict]:
    """FairNAS strict fairness (Chu et al., Sect. 3.2): per layer a permutation of the m
    choices; path k takes the k-th op of every layer."""
    m = len(mixer.choices)
    perms = {
        t: [rng.sample(mixer.choices, m) for _ in range(mixer.num_edges)] for t in mixer.cell_types
    }
    return [{t: tuple(p[k] for p in perms[t]) for t in mixer.cell_types} for k in range(m)]


def micro_arc(rng: random.Random, num_cells: int = 5, num_ops: int = 5) -> dict:
    """A random ENAS micro child: per cell type and node, (x input, x op, y input, y op)."""

    def node(i: int) -> tuple[int, int, int, int]:
        return (
            rng.randrange(i + 2),
            rng.randrange(num_ops),
            rng.randrange(i + 2),
            rng.randrange(num_ops),
        )

    return {t: [node(i) for i in range(num_cells)] for t in ("normal", "reduce")}


def macro_row(rng: random.Random, num_layers: int = 12, num_branches: int = 6) -> list[int]:
    row = []
    for layer in range(num_layers):
        row += [rng.randrange(num_branches)] + [rng.randrange(2) for _ in range(layer)]
    return row


def build(name: str, quick: bool) -> Bench:
    torch.manual_seed(0)
    set_choice = lambda net, c: net.mixer.set_choice(c)  # noqa: E731
    if name == "darts":
        from common.spaces.darts.model import NetworkCIFAR
        from reproductions.darts.models import GENOTYPES

        c, layers = (16, 8) if quick else (36, 20)  # DARTS App. A.2.1: C=36, 20 cells
        net = NetworkCIFAR(C=c, layers=layers, auxiliary=True, genotype=GENOTYPES["DARTS_V2"])
        net.drop_path_prob = 0.2
        return Bench(net)
    if name == "nb201":
        from common.spaces.nb201.arch import Nb201Arch
        from common.spaces.nb201.model import Nb201Network

        return Bench(Nb201Network(Nb201Arch.parse(BEST_NB201), 10))  # C=16, N=5 (defaults)
    if name in ("spos-macro", "fairnas-macro"):
        net = MacroSupernet(10, mixer=SinglePathMixer)
        if name == "spos-macro":
            return Bench(net, lambda rng: [net.mixer.sample(rng)], set_choice, net.mixer.ops)
        return Bench(net, lambda rng: strict_fair(net.mixer, rng), set_choice, net.mixer.ops)
    if name == "spos-nb201":
        net = Nb201Supernet(10, mixer=SinglePathMixer)  # C=16, N=5
        return Bench(net, lambda rng: [net.mixer.sample(rng)], set_choice, net.mixer.ops)
    if name == "enas-micro":
        from common.controllers.micro_policy import MICRO_OPS

        net = EnasMicroNet()  # micro_search.sh: C=20, 6 layers, 5 cells, aux head
        return Bench(net, lambda rng: [micro_arc(rng)], lambda n, a: n.set_arc(a), MICRO_OPS)
    if name == "enas-macro":
        net = EnasMacroNet()  # macro_search.sh: 12 layers, 36 filters, 6 branches
        ops = tuple(str(k) for k in range(6))
        return Bench(net, lambda rng: [macro_row(rng)], lambda n, r: n.set_arc(r), ops)
    raise SystemExit(f"--nets: unknown network {name!r}; valid: {', '.join(NETS)}")


class Trainer:
    """One variant's copy of the network, its optimiser and its training step."""

    def __init__(self, bench: Bench, variant: str, device: str) -> None:
        self.speed = Speed(
            memory_format="channels_last" if variant.startswith("channels_last") else "contiguous",
            precision="bf16" if variant == "bf16" else "fp32",
            batchnorm="native" if variant.endswith("native_bn") else "summed",
        )
        self.net = self.speed.module(copy.deepcopy(bench.net).to(device).train())
        self.apply, self.device = bench.apply, device
        fwd = getattr(self.net, "forward_with_aux", None) or self.net.forward
        if variant == "compile":
            if bench.ops:  # a supernet: its graph is the path; compile each op once
                compile_ops(self.net, bench.ops)
            else:
                fwd = torch.compile(fwd)
        self.fwd = fwd
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.01, momentum=0.9, weight_decay=3e-4)

    def step(self, batch: tuple[torch.Tensor, torch.Tensor], paths: list) -> float:
        x, y = batch
        x = self.speed.tensor(x)
        self.opt.zero_grad(set_to_none=True)
        total = 0.0
        for path in paths:
            if path is not None:
                self.apply(self.net, path)
            with self.speed.autocast(x.device.type):
                out = self.fwd(x)
            logits, aux = out if isinstance(out, tuple) else (out, None)
            loss = F.cross_entropy(logits.float(), y)
            if aux is not None:
                loss = loss + AUX_WEIGHT * F.cross_entropy(aux.float(), y)
            loss.backward()
            total += float(loss.detach())
        self.opt.step()
        return total / len(paths)


def make_batch(n: int, device: str, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)
    return x.to(device), y.to(device)


def run(name: str, args) -> dict:
    bench = build(name, args.quick)
    rng = random.Random(args.seed)
    pool = [bench.draw(rng) for _ in range(args.paths if bench.ops else 1)]
    batch = make_batch(args.batch, args.device, args.seed)
    variants = list(args.variants)

    # numerics: the same weights, batches and paths for every variant
    losses, setup = {}, {}
    for v in variants:
        start = time.perf_counter()
        trainer = Trainer(bench, v, args.device)
        torch.manual_seed(args.seed)  # the same drop-path and dropout draws
        for k in range(args.check_steps):
            loss = trainer.step(make_batch(args.batch, args.device, 100 + k), pool[k % len(pool)])
        losses[v] = loss
        setup[v] = time.perf_counter() - start  # compile time lands here

    trainers, warm = {}, {}
    for v in variants:
        trainers[v] = Trainer(bench, v, args.device)
        start = time.perf_counter()
        for paths in pool:  # compiles every op of every path in the pool
            trainers[v].step(batch, paths)
        sync(args.device)
        warm[v] = setup[v] + time.perf_counter() - start
    times: dict[str, list[float]] = {v: [] for v in variants}
    order = random.Random(args.seed + 1)
    for r in range(args.rounds):
        for v in order.sample(variants, len(variants)):
            sync(args.device)
            start = time.perf_counter()
            for s in range(args.steps):
                trainers[v].step(batch, pool[(r * args.steps + s) % len(pool)])
            sync(args.device)
            times[v].append(time.perf_counter() - start)
    memory = {}
    for v in variants:
        trainers[v].opt.zero_grad(set_to_none=True)  # no gradient stays allocated
        memory[v] = peak_mib(lambda v=v: trainers[v].step(batch, pool[0]), args.device)

    ref = "eager" if "eager" in variants else variants[0]
    rows = {}
    for v in variants:
        med = statistics.median(times[v]) / args.steps
        speedup = statistics.median(a / b for a, b in zip(times[ref], times[v], strict=True))
        rows[v] = {
            "images_per_s": args.batch / med,
            "speedup": speedup,
            "peak_mib": memory[v],
            "memory_ratio": memory[v] / memory[ref] if memory[ref] else float("nan"),
            "warmup_s": warm[v],
            "loss_after_check_steps": losses[v],
            "loss_diff_vs_eager": losses[v] - losses[ref],
        }
    print(
        f"\n{name}{' (quick)' if args.quick and name == 'darts' else ''}: batch {args.batch},"
        f" 32x32, {args.device}, {torch.get_num_threads()} thread(s), {args.rounds} rounds x"
        f" {args.steps} steps, {len(pool)} path(s); ratios against {ref}, medians over rounds"
    )
    print(f"{'variant':14s} {'img/s':>8s} {'speedup':>8s} {'peak MiB':>9s} {'mem ratio':>9s}"
          f" {'warm-up s':>9s} {f'loss diff @{args.check_steps}':>14s}")  # fmt: skip
    for v, row in rows.items():
        print(f"{v:14s} {row['images_per_s']:8.1f} {row['speedup']:8.2f} {row['peak_mib']:9.1f}"
              f" {row['memory_ratio']:9.2f} {row['warmup_s']:9.1f}"
              f" {row['loss_diff_vs_eager']:14.2e}")  # fmt: skip
    return rows


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--nets", default=",".join(NETS), help="comma-separated, among " + ", ".join(NETS)
    )
    ap.add_argument("--variants", default=",".join(DEFAULT_VARIANTS), help="comma-separated")
    ap.add_argument("--quick", action="store_true", help="DARTS network at C=16, 8 cells")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=2, help="timed steps per variant per round")
    ap.add_argument("--paths", type=int, default=4, help="a supernet's pool of paths")
    ap.add_argument("--check-steps", type=int, default=3, help="steps before the loss check")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the figures to this file")
    return ap


def check_args(args: argparse.Namespace) -> None:
    """Refuse networks and variants the benchmark does not know (``args.variants``: a list)."""
    if set(args.variants) - set(VARIANTS):
        raise SystemExit(f"--variants: valid: {', '.join(VARIANTS)}")
    for name in args.nets.split(","):
        if name not in NETS:
            raise SystemExit(f"--nets: unknown network {name!r}; valid: {', '.join(NETS)}")


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    args.variants = args.variants.split(",")
    check_args(args)
    torch.set_num_threads(args.threads)
    # compiled graphs draw drop-path and dropout masks from eager's generator: the loss check
    # then compares the same computation
    torch._inductor.config.fallback_random = True
    results = {name: run(name, args) for name in args.nets.split(",")}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)
    return results


if __name__ == "__main__":
    main()
