"""Why ``channels_last`` float32 DARTS steps drift further from the exact step than the
default layout's: the CPU BatchNorm kernel for that layout.

PyTorch's CPU BatchNorm in ``channels_last`` accumulates a channel's batch statistics (and,
backwards, its sums of gradients) over the N*H*W positions one after another in float32; in
the default layout it sums blockwise. Both are float32, so each is compared with the same
computation in float64:

1. one BatchNorm (training mode), forward and backward, in each layout: the largest error of
   the output and of the three gradients, relative to the largest float64 value;
2. one forward+backward of the DARTS search supernet (8 cells, C=16, 32x32) in NCHW, in
   ``channels_last``, in ``channels_last`` with every BatchNorm computed in NCHW (its input
   copied to the default layout and its output copied back), and in ``channels_last`` with
   ``SummedBatchNorm2d`` (``common/training/batchnorm.py``, what ``speed.memory_format=
   channels_last`` uses): the alphas' and the weights' gradient errors, and the main thread's
   CPU time of the pass (median of 3, after a warm-up).

Only the BatchNorms change between the last three, so if the third comes back to NCHW's
error the layout's error is BatchNorm's; its time says what the detour costs, the fourth's
what the accurate sums cost.

    python scripts/bn_layout_accuracy.py [--batch 32] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.supernets.darts import DartsSupernet  # noqa: E402
from common.training.batchnorm import use_summed_batchnorm  # noqa: E402

CL = torch.channels_last


def rel_err(x: torch.Tensor, exact: torch.Tensor) -> float:
    return float((x.detach().double() - exact).abs().max() / exact.abs().max())


def one_batchnorm(batch: int, channels: int = 16, size: int = 32) -> dict[str, list[float]]:
    """Errors of (y, dx, dweight, dbias) of one training-mode BatchNorm per layout."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, channels, size, size, generator=g, dtype=torch.float64) * 3 + 1
    dy = torch.randn(x.shape, generator=g, dtype=torch.float64)
    w = torch.rand(channels, generator=g, dtype=torch.float64) + 0.5
    b = torch.randn(channels, generator=g, dtype=torch.float64)

    def run(x, w, b, dy):
        x, w, b = (t.clone().requires_grad_(True) for t in (x, w, b))
        y = F.batch_norm(x, None, None, w, b, training=True)
        return [y.detach(), *torch.autograd.grad(y, (x, w, b), dy)]

    exact = run(x, w, b, dy)
    out = {}
    for name, fmt in (("nchw", torch.contiguous_format), ("channels_last", CL)):
        got = run(x.float().contiguous(memory_format=fmt), w.float(), b.float(),
                  dy.float().contiguous(memory_format=fmt))  # fmt: skip
        out[name] = [rel_err(a, e) for a, e in zip(got, exact, strict=True)]
    return out


NATIVE = nn.BatchNorm2d.forward


def bn_in_nchw(self: nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    if x.is_contiguous(memory_format=CL) and not x.is_contiguous():
        return NATIVE(self, x.contiguous()).contiguous(memory_format=CL)
    return NATIVE(self, x)


def supernet_pass(
    batch: int, C: int = 16, layers: int = 8
) -> dict[str, tuple[float, float, float]]:
    """(alpha-gradient error, weight-gradient error, CPU s) of one supernet pass per variant."""
    torch.manual_seed(0)
    net64 = DartsSupernet(C=C, num_classes=10, layers=layers).double()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 3, 32, 32, generator=g, dtype=torch.float64)
    y = torch.randint(0, 10, (batch,), generator=g)

    def grads(net, x):
        net.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        return [torch.cat([p.grad.flatten() for p in ps]).double()
                for ps in (net.arch_parameters(), list(net.weight_parameters()))]  # fmt: skip

    exact = grads(net64, x)
    variants = {  # name -> (layout, BatchNorm in NCHW, SummedBatchNorm2d)
        "nchw": (torch.contiguous_format, False, False),
        "channels_last": (CL, False, False),
        "channels_last, BatchNorm in NCHW": (CL, True, False),
        "channels_last, SummedBatchNorm2d": (CL, False, True),
    }
    nets = {}
    for name, (fmt, _, summed) in variants.items():
        net = copy.deepcopy(net64).float().to(memory_format=fmt)
        if summed:
            use_summed_batchnorm(net)
        nets[name] = (net, x.float().contiguous(memory_format=fmt))
    times: dict[str, list[float]] = {name: [] for name in variants}
    out = {}
    try:
        for r in range(4):  # a warm-up, then 3 timed rounds, the variants interleaved
            for name, (net, xf) in nets.items():
                nn.BatchNorm2d.forward = bn_in_nchw if variants[name][1] else NATIVE
                start = time.thread_time()
                a, w = grads(net, xf)
                if r:
                    times[name].append(time.thread_time() - start)
                out[name] = (rel_err(a, exact[0]), rel_err(w, exact[1]))
    finally:
        nn.BatchNorm2d.forward = NATIVE
    return {name: (*out[name], sorted(times[name])[1]) for name in variants}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-supernet", action="store_true", help="part 1 only")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    ops = one_batchnorm(args.batch)
    print(f"one BatchNorm, batch {args.batch}, 16 channels, 32x32; error relative to float64:")
    for name, errs in ops.items():
        print(f"  {name:14s} " + "  ".join(f"{k} {e:.1e}" for k, e in zip(("y", "dx", "dw", "db"), errs, strict=True)))  # fmt: skip
    result = {"batchnorm": ops}
    if not args.skip_supernet:
        passes = supernet_pass(args.batch)
        print(f"DARTS supernet forward+backward, 8 cells, C=16, batch {args.batch}:")
        for name, (ea, ew, t) in passes.items():
            print(f"  {name:34s} alphas' grad {ea:.1e}  weights' grad {ew:.1e}  cpu {t:6.2f} s")
        result["supernet"] = passes
    return result


if __name__ == "__main__":
    main()
