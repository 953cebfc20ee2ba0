"""Benchmark: a single-path supernet step against the same path built as a discrete network,
in one process (SPOS, Guo et al. ECCV 2020; FairNAS, Chu et al. ICCV 2021).

For the NAS-Bench-Macro supernet (the benchmark's widths, 32x32 input) and the NAS-Bench-201
one (C=16, N=5), it samples ``--paths`` uniform paths (SPOS) and, for each, times one
forward+backward of the supernet set to that path and of a freshly built discrete network of
the same architecture (``MacroNetwork``, ``Nb201Network``) in ``--repeats`` rounds, every
round in a new random order; the ratio is the median over rounds. It should be close to 1:
unsampled ops cost nothing. A FairNAS strict-fair step (m paths that together use every op of
every layer once, gradients accumulated, one update) is timed against the m discrete steps of
its paths: it should cost m single-path steps, a ratio close to 1 again.

Peak memory of each step: the largest sum of live bytes allocated during the step (the
torch profiler's allocation events on CPU, ``max_memory_allocated`` on CUDA), above what was
allocated before it, so the weights (which the supernet holds for every op) are reported
apart.

    python scripts/benchmark_single_path.py [--space macro|nb201|both] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import torch
from torch.nn import functional as F

from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network
from common.spaces.nb_macro.arch import MacroArch
from common.spaces.nb_macro.model import MacroNetwork
from common.speed import peak_mib, sync
from common.supernets.macro import MacroSupernet
from common.supernets.mixers import SinglePathMixer
from common.supernets.nb201 import Nb201Supernet

Choice = dict[str, tuple[str, ...]]


def build(space: str) -> tuple[torch.nn.Module, Callable[[Choice], torch.nn.Module]]:
    """The supernet at its benchmark size and a builder of the discrete network of a path."""
    torch.manual_seed(0)
    if space == "macro":
        supernet = MacroSupernet(10, mixer=SinglePathMixer)
        return supernet, lambda c: MacroNetwork(MacroArch.from_ops(c["chain"]))
    supernet = Nb201Supernet(10, mixer=SinglePathMixer)  # NB-201: C=16, N=5 (defaults)
    return supernet, lambda c: Nb201Network(Nb201Arch(c["cell"]), 10)


def strict_fair_paths(mixer: SinglePathMixer, rng: random.Random) -> list[Choice]:
    """FairNAS's strict fairness (Chu et al., Sect. 3.2, Alg. 1): per layer a random
    permutation of the m choices; path k takes the k-th op of every layer."""
    perms = {
        t: [rng.sample(mixer.choices, len(mixer.choices)) for _ in range(mixer.num_edges)]
        for t in mixer.cell_types
    }
    return [
        {t: tuple(p[k] for p in perms[t]) for t in mixer.cell_types}
        for k in range(len(mixer.choices))
    ]


def step_fn(net: torch.nn.Module, paths: list[Choice] | None, batch) -> Callable[[], None]:
    """One training step's forward+backward (no optimizer: its cost is per weight, not per
    path); for a supernet, over ``paths`` with gradients accumulated."""
    x, y = batch

    def step() -> None:
        net.zero_grad(set_to_none=True)
        for path in paths or [None]:
            if path is not None:
                net.mixer.set_choice(path)
            F.cross_entropy(net(x), y).backward()

    return step


def time_all(
    fns: dict[str, Callable[[], None]], device: str, repeats: int, rng: random.Random
) -> dict[str, list[float]]:
    """Seconds of each step in each of ``repeats`` rounds; every round runs all steps in a
    fresh random order, so load from elsewhere and order effects hit all alike."""
    for fn in fns.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name in rng.sample(list(fns), len(fns)):
            sync(device)
            start = time.perf_counter()
            fns[name]()
            sync(device)
            times[name].append(time.perf_counter() - start)
    return times


def ratio(num: list[list[float]], den: list[list[float]]) -> tuple[float, float, float]:
    """Median over rounds of sum(num) / sum(den) within a round, and the median times."""
    per_round = [sum(n) / sum(d) for n, d in zip(zip(*num), zip(*den), strict=True)]
    med = lambda ts: sum(statistics.median(t) for t in ts)  # noqa: E731
    return med(num), med(den), statistics.median(per_round)


def weights_mib(net: torch.nn.Module) -> float:
    return sum(p.numel() * p.element_size() for p in net.parameters()) / 2**20


def run(space: str, args) -> None:
    supernet, discrete = build(space)
    supernet = supernet.to(args.device).train()
    g = torch.Generator().manual_seed(1)
    batch = (
        torch.randn(args.batch, 3, 32, 32, generator=g).to(args.device),
        torch.randint(0, 10, (args.batch,), generator=g).to(args.device),
    )
    rng = random.Random(args.seed)
    paths = [supernet.mixer.sample(rng) for _ in range(args.paths)]
    fair = strict_fair_paths(supernet.mixer, rng)
    nets = {f"path{i}": discrete(p).to(args.device).train() for i, p in enumerate(paths)}
    nets |= {f"fair{k}": discrete(p).to(args.device).train() for k, p in enumerate(fair)}
    fns = {f"super_path{i}": step_fn(supernet, [p], batch) for i, p in enumerate(paths)}
    fns |= {f"discrete_{n}": step_fn(net, None, batch) for n, net in nets.items()}
    fns["super_fair"] = step_fn(supernet, fair, batch)
    times = time_all(fns, args.device, args.repeats, random.Random(args.seed))
    memory = {}
    for name, fn in fns.items():
        for net in (supernet, *nets.values()):  # no gradient from earlier steps stays allocated
            net.zero_grad(set_to_none=True)
        memory[name] = peak_mib(fn, args.device)

    print(
        f"\n{space}: batch {args.batch}, 32x32, {args.device}, {torch.get_num_threads()} threads,"
        f" {args.repeats} rounds; weights: supernet {weights_mib(supernet):.1f} MiB"
    )
    print(f"{'step':28s} {'super s':>8s} {'discr s':>8s} {'ratio':>6s}  {'super MiB':>9s}"
          f" {'discr MiB':>9s} {'ratio':>6s}")  # fmt: skip
    n = len(paths)
    for i, path in enumerate(paths):
        code = "".join(str(supernet.mixer.choices.index(op)) for op in next(iter(path.values())))
        s, d, r = ratio([times[f"super_path{i}"]], [times[f"discrete_path{i}"]])
        ms, md = memory[f"super_path{i}"], memory[f"discrete_path{i}"]
        print(f"path {code:23s} {s:8.3f} {d:8.3f} {r:6.3f}  {ms:9.1f} {md:9.1f} {ms / md:6.3f}")
    s, d, r = ratio(
        [times[f"super_path{i}"] for i in range(n)], [times[f"discrete_path{i}"] for i in range(n)]
    )
    print(f"{'all paths (sum)':28s} {s:8.3f} {d:8.3f} {r:6.3f}")
    m = len(fair)
    s, d, r = ratio([times["super_fair"]], [times[f"discrete_fair{k}"] for k in range(m)])
    ms, md = memory["super_fair"], max(memory[f"discrete_fair{k}"] for k in range(m))
    print(f"{f'strict-fair step (m={m})':28s} {s:8.3f} {d:8.3f} {r:6.3f}  {ms:9.1f} {md:9.1f}"
          f" {ms / md:6.3f}")  # fmt: skip
    print(
        "  (time ratio: median over rounds; strict-fair reference: the m discrete steps' summed"
        " time, their largest peak; the fair step also keeps every op's gradient, the"
        " supernet's weight size, until its one update)"
    )
    _, _, r = ratio([times["super_fair"]], [times[f"super_path{i}"] for i in range(n)])
    print(f"strict-fair step / mean single-path step: {r * n:.2f} (m={m})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--space", choices=("macro", "nb201", "both"), default="both")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    # NB-201's search batch (Dong & Yang, ICLR 2020, Sect. 5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--paths", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for space in ("macro", "nb201") if args.space == "both" else (args.space,):
        run(space, args)


if __name__ == "__main__":
    main()
