"""A toy chain supernet for single-path tests: ``layers`` positions, each a choice among
``ops`` linear layers, one ``SinglePathMixer`` (cell type ``chain``, one edge per layer) --
the shape of NAS-Bench-Macro or the SPOS/FairNAS ImageNet spaces, without their cost."""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from common.supernets.mixers import SinglePathMixer
from common.training.single_path import PathSpace

OPS = ("a", "b", "c")


class ChainSupernet(nn.Module):
    def __init__(self, layers: int = 3, width: int = 5, ops: Sequence[str] = OPS, classes: int = 3):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.ModuleDict({op: nn.Linear(width, width) for op in ops}) for _ in range(layers)
        )
        self.head = nn.Linear(width, classes)
        self.mixer = SinglePathMixer(ops=tuple(ops), num_edges=layers, cell_types=("chain",))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = self.mixer.state("chain")
        for e, layer in enumerate(self.layers):
            x = torch.tanh(self.mixer.mix(layer, x, e, state))
        return self.head(x)


def chain_space(net: ChainSupernet, cost=None) -> PathSpace:
    """Architectures of the chain are their paths (tuples of op names)."""
    return PathSpace.of(net.mixer, tuple, tuple, cost)


def loader(n: int = 16, batch: int = 8, width: int = 5, seed: int = 0) -> DataLoader:
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, width, generator=g), torch.randint(0, 3, (n,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=batch)


def path_grads(net: nn.Module, space: PathSpace, paths, x, y) -> dict[str, torch.Tensor]:
    """The sum over ``paths`` of each parameter's gradient of the cross-entropy on (x, y),
    computed path by path with autograd (zeros for parameters off every path)."""
    total = {n: torch.zeros_like(p) for n, p in net.named_parameters()}
    for path in paths:
        net.zero_grad(set_to_none=True)
        net.mixer.set_choice(space.choice(path))
        nn.functional.cross_entropy(net(x), y).backward()
        for n, p in net.named_parameters():
            if p.grad is not None:
                total[n] += p.grad
    return total


def seeded(seed: int) -> random.Random:
    return random.Random(seed)
