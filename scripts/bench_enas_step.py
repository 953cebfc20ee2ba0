"""Time ENAS micro steps in one process (issue 26, Speed): a shared-weight step (one sampled
child through the supernet: forward, backward, SGD step) against the forward+backward+step of
the same child built as a discrete network, one rewarded child (a forward on one minibatch)
and one controller update (``num_aggregate`` draws and the REINFORCE step).

    PYTHONPATH=. python scripts/bench_enas_step.py --C 20 --num-layers 6 --batch 160

Defaults are the paper's search setting (cifar10_micro_search.sh); the median of ``--reps``
timed repetitions after one warm-up is printed per item, in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn import functional as F

from common.controllers.micro_policy import MicroLstmPolicy, split_arc
from common.controllers.reinforce import MovingAverageBaseline, controller_adam, reinforce_update
from common.supernets.enas_micro import EnasMicroNet, copy_child_weights


def timed(fn, reps: int) -> float:
    fn()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def train_step(net, opt, x, y):
    def run():
        logits, aux = net.forward_with_aux(x)
        loss = F.cross_entropy(logits, y) + (0 if aux is None else 0.4 * F.cross_entropy(aux, y))
        opt.zero_grad()
        loss.backward()
        opt.step()

    return run


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--C", type=int, default=20)
    p.add_argument("--num-layers", type=int, default=6)
    p.add_argument("--batch", type=int, default=160)
    p.add_argument("--aggregate", type=int, default=10)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    policy = MicroLstmPolicy().to(dev)
    arc = split_arc(policy.sample(1).decisions[0])
    shared = EnasMicroNet(C=a.C, num_layers=a.num_layers).to(dev)
    shared.set_arc(arc)
    child = EnasMicroNet(C=a.C, num_layers=a.num_layers, arc=arc).to(dev)
    copy_child_weights(child, shared, arc)
    x = torch.randn(a.batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (a.batch,), device=dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def both(fn):
        return lambda: (fn(), sync())

    opt_s = torch.optim.SGD(shared.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    opt_c = torch.optim.SGD(child.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    t_shared = timed(both(train_step(shared, opt_s, x, y)), a.reps)
    t_child = timed(both(train_step(child, opt_c, x, y)), a.reps)

    def reward():
        with torch.no_grad():
            shared.set_arc(split_arc(policy.sample(1).decisions[0]))
            (shared(x).argmax(1) == y).float().mean().item()

    t_reward = timed(both(reward), a.reps)
    c_opt = controller_adam(policy, 3.5e-3)
    base = MovingAverageBaseline(0.99)

    def controller():
        rows = policy.sample(a.aggregate).decisions
        reinforce_update(policy, c_opt, rows, [0.5] * len(rows), base, 1e-4)

    t_ctl = timed(both(controller), a.reps)
    print(f"device {dev}, C={a.C}, num_layers={a.num_layers}, batch {a.batch}, threads {a.threads}")
    print(f"shared-weight step   {t_shared:.4f} s")
    print(f"discrete child step  {t_child:.4f} s   ratio shared/discrete {t_shared / t_child:.3f}")
    print(f"rewarded child       {t_reward:.4f} s (forward on one minibatch)")
    print(f"controller update    {t_ctl:.4f} s ({a.aggregate} children's REINFORCE step)")


if __name__ == "__main__":
    main()
