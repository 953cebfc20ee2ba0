"""ENAS's own final macro network: a fixed macro arc as ``scripts/cifar10_macro_final.sh``
trains it (Pham et al., ICML 2018, Sect. 3.2; melodyguan/enas @4bcfd73 ``src/cifar10/
general_child.py`` with ``fixed_arc`` and ``whole_channels``: ``_model`` L192-243,
``_fixed_layer`` L371-481).

It differs from the search child (``common.supernets.enas_macro``) in every layer:

- an op is ReLU, 1x1 conv, BN, then ReLU, k x k conv, BN (``conv_1x1`` / ``conv_{k}x{k}``
  scopes, L390-405), with ``k = [3, 3, 5, 5][op]``: the fixed-arc code builds ops 1 and 3 (sep
  convs in search) as **full** convolutions, and has no branch for the pools (ops 4 and 5
  ``pass``, leaving ``out`` undefined: the released arc has none, with ``num_branches 4``).
  Pools are built here as in search (1x1 conv, BN, ReLU, pool), a deviation;
- from layer 1 on, the chosen earlier layers and the op's output are **concatenated**, then
  ReLU, 1x1 conv back to ``C``, BN (L453-479), even when no skip is chosen;
- ``C`` doubles at each pool layer (L215-216), every earlier layer (stem included) factorized-
  reduced to the new width (L217-224);
- head: global pool (no ReLU), dropout (keep 0.5), linear without bias; no auxiliary head
  (``general_child.py`` has none). The official count (``Model has N params``, L606-609) is
  every trainable variable: BN scale and offset included.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from common.supernets.enas_macro import PoolBranch, split_macro_arc
from common.supernets.enas_micro import FactorizedReduction

# scripts/cifar10_macro_final.sh @4bcfd73 L5-28: the released arc, layer by layer (op, skips)
FINAL_MACRO_ARC = tuple(
    int(v)
    for v in """
0
3 0
0 1 0
2 0 0 1
2 0 0 0 0
3 1 1 0 1 0
2 0 0 0 0 0 1
2 0 1 1 0 1 1 1
1 0 1 1 1 0 1 0 1
0 0 0 0 0 0 0 0 0 0
2 0 0 0 0 0 1 0 0 0 0
0 1 0 0 1 1 0 0 0 0 1 1
2 0 1 0 0 0 0 0 1 0 1 1 0
1 0 0 1 0 0 0 1 1 1 0 1 0 1
0 1 1 0 1 0 1 0 0 0 0 0 1 0 0
2 0 0 1 0 0 0 0 0 0 0 1 0 1 0 1
2 0 1 0 0 0 1 0 0 1 1 1 1 0 0 1 0
2 0 0 0 0 1 0 1 0 1 0 0 1 0 1 0 0 1
3 0 1 1 0 1 0 0 0 0 0 1 0 1 0 1 0 0 0
3 0 1 1 0 0 0 0 0 0 0 0 0 1 1 0 0 0 0 1
0 1 0 0 1 0 1 1 0 0 0 1 0 0 0 0 0 1 1 0 0
3 0 1 0 1 1 0 0 1 0 1 1 0 1 1 0 1 0 0 1 0 0
0 1 0 1 0 1 0 0 0 0 0 0 0 0 1 0 1 0 0 1 0 0 0
0 1 1 0 0 0 1 1 1 0 1 0 0 0 1 0 1 0 0 1 1 0 0 0
""".split()
)


def bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)


def fixed_op(op: int, c_in: int, c: int) -> nn.Module:
    if op in (4, 5):  # not in the official fixed-arc code: the search's pool branch
        return PoolBranch(c_in, c, ("avg", "max")[op - 4])
    k = (3, 3, 5, 5)[op]
    return nn.Sequential(
        nn.ReLU(), nn.Conv2d(c_in, c, 1, bias=False), bn(c),
        nn.ReLU(), nn.Conv2d(c, c, k, padding=k // 2, bias=False), bn(c),
    )  # fmt: skip


class FixedMacroLayer(nn.Module):
    def __init__(self, op: int, skips: Sequence[int], c: int) -> None:
        super().__init__()
        self.skips = [i for i, bit in enumerate(skips) if bit]
        self.op = fixed_op(op, c, c)
        self.skip = None
        if len(skips) > 0:  # layer_id > 0 (L453-479)
            n = len(self.skips) + 1
            self.skip = nn.Sequential(nn.ReLU(), nn.Conv2d(n * c, c, 1, bias=False), bn(c))

    def forward(self, prev: list[torch.Tensor]) -> torch.Tensor:
        out = self.op(prev[-1])
        if self.skip is None:
            return out
        return self.skip(torch.cat([prev[i] for i in self.skips] + [out], 1))


class EnasMacroFinalNet(nn.Module):
    """Defaults: ``cifar10_macro_final.sh`` (the released arc, 24 layers, 96 filters, keep 0.5)."""

    def __init__(
        self,
        arc: Sequence[int] = FINAL_MACRO_ARC,
        C: int = 96,
        num_layers: int = 24,
        num_classes: int = 10,
        in_channels: int = 3,
        keep_prob: float = 0.5,
        in_chans: int | None = None,  # timm's name for in_channels
        img_size: object = None,  # timm passes it; the network takes any size
    ) -> None:
        super().__init__()
        in_channels = in_chans or in_channels
        self.keep_prob = keep_prob
        d = num_layers // 3
        self.pool_layers = (d - 1, 2 * d - 1)  # L95-96
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), bn(C))
        self.layers = nn.ModuleList()
        self.reductions = nn.ModuleDict()
        c = C
        for layer_id, (op, skips) in enumerate(split_macro_arc(arc, num_layers)):
            self.layers.append(FixedMacroLayer(op, skips, c))
            if layer_id in self.pool_layers:
                self.reductions[str(layer_id)] = nn.ModuleList(
                    FactorizedReduction(c, 2 * c, batch_stats=False, relu=False)
                    for _ in range(layer_id + 2)
                )
                c *= 2
        self.num_features = c
        self.classifier = nn.Linear(c, num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        prev = [self.stem(x)]
        for layer_id, layer in enumerate(self.layers):
            prev.append(layer(prev))
            if str(layer_id) in self.reductions:
                prev = [fr(h) for fr, h in zip(self.reductions[str(layer_id)], prev, strict=True)]
        x = F.dropout(prev[-1].mean((2, 3)), 1.0 - self.keep_prob, self.training)
        return self.classifier(x)

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self(x), None

    aux_head = None
