"""The single-path benchmark's pieces: strict-fair paths use every op of every layer once, a
strict-fair step trains every op, and the memory probe sees a step's allocations."""

import random

import torch

from common.supernets.macro import MacroSupernet, mask_arch
from common.supernets.mixers import SinglePathMixer


def test_a_strict_fair_step_uses_every_op_of_every_layer_once(script):
    bench = script("benchmark_single_path")
    torch.manual_seed(0)
    supernet = MacroSupernet(10, mixer=SinglePathMixer, init_channels=4, head_channels=8)
    paths = bench.strict_fair_paths(supernet.mixer, random.Random(0))
    assert len(paths) == 3
    for layer in range(8):
        assert sorted(p["chain"][layer] for p in paths) == sorted(supernet.mixer.choices)
    batch = (torch.randn(2, 3, 8, 8), torch.tensor([0, 1]))
    step = bench.step_fn(supernet, paths, batch)
    step()
    assert all(p.grad is not None for p in supernet.parameters())
    assert mask_arch(supernet.mixer).ops == paths[-1]["chain"]
    supernet.zero_grad(set_to_none=True)
    grads_mib = sum(p.numel() * 4 for p in supernet.parameters()) / 2**20
    assert bench.peak_mib(step, "cpu") >= grads_mib  # every op's gradient is allocated
