"""ENAS's macro-space child network with shared weights, and the same child as a discrete
network (Pham et al., ICML 2018, Sect. 2.3; official code melodyguan/enas @4bcfd73
``src/cifar10/general_child.py`` with ``whole_channels``, as ``cifar10_macro_search.sh`` runs
it; line numbers below).

A child is one flat row of ENAS's ``arc_seq``: per layer ``l`` its op, then ``l`` skip bits
(``LstmPolicy`` with ``skip_attention``). Per layer (``_enas_layer`` L245-369):

- every op has its own weights on the previous layer's output (``branch_0`` .. ``branch_5``):
  0 conv 3x3, 1 sep conv 3x3, 2 conv 5x5, 3 sep conv 5x5 (``_conv_branch`` L483-544: 1x1
  conv, BN, ReLU, then the k x k conv, or depthwise k x k + pointwise 1x1, BN with epsilon
  1e-3 (``batch_norm_with_mask`` over every channel), ReLU), 4 average and 5 max pool 3x3
  (``_pool_branch`` L546-589: 1x1 conv, BN, ReLU, pool, "SAME", stride 1);
- the layer's output is the chosen op's (no 1x1 conv after it in the whole-channel mode);
  from layer 1 on, the earlier layers whose skip bit is 1 are added and the sum goes through
  a BN (L353-367). Skip bit ``i`` of layer ``l`` is ``prev_layers[i]``: the stem for ``i =
  0``, layer ``i - 1`` otherwise (the input, layer ``l - 1``, is always there);
- after the layers at ``num_layers // 3 - 1`` and ``2 * (num_layers // 3) - 1`` every layer so
  far, the stem included, is halved in resolution by its own factorized reduction (L214-224),
  at the same width in search (``out_filters`` only doubles with a fixed arc, L215-216);
- the head: global average pool of the last layer (no ReLU), dropout (keep 0.9 in search),
  a linear layer without bias (L231-242). No auxiliary head: ``general_child.py`` has none
  (``--child_use_aux_heads`` is read by the micro child only).

BN: affine, running statistics (decay 0.9), used in evaluation: the controller's rewards come
from the evaluation graph (``build_valid_rl``, ``_model(..., False)``, L691).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from common.supernets.enas_micro import FactorizedReduction

MACRO_OPS = ("conv_3x3", "sep_conv_3x3", "conv_5x5", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3")


def split_macro_arc(row: Sequence[int], num_layers: int) -> list[tuple[int, list[int]]]:
    """A flat ``arc_seq`` row as (op, skip bits) per layer."""
    row, out, start = [int(v) for v in row], [], 0
    for layer in range(num_layers):
        out.append((row[start], row[start + 1 : start + 1 + layer]))
        start += 1 + layer
    if start != len(row):
        raise ValueError(f"a {num_layers}-layer macro arc has {start} entries, got {len(row)}")
    return out


def bn(c: int, eps: float = 1e-5) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=eps, momentum=0.1)  # image_ops.py L92-93: decay 0.9


class ConvBranch(nn.Module):
    """``_conv_branch``: 1x1 conv, BN, ReLU; k x k conv (or separable), BN (eps 1e-3), ReLU."""

    def __init__(self, c_in: int, c: int, k: int, separable: bool) -> None:
        super().__init__()
        out = (
            [nn.Conv2d(c, c, k, padding=k // 2, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False)]
            if separable
            else [nn.Conv2d(c, c, k, padding=k // 2, bias=False)]
        )  # fmt: skip
        self.op = nn.Sequential(
            nn.Conv2d(c_in, c, 1, bias=False), bn(c), nn.ReLU(), *out, bn(c, 1e-3), nn.ReLU()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class PoolBranch(nn.Module):
    """``_pool_branch``: 1x1 conv, BN, ReLU, 3x3 pool "SAME" (average over real pixels)."""

    def __init__(self, c_in: int, c: int, kind: str) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(c_in, c, 1, bias=False), bn(c), nn.ReLU())
        self.pool = (
            nn.AvgPool2d(3, 1, 1, count_include_pad=False)
            if kind == "avg"
            else nn.MaxPool2d(3, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


def make_branch(op: int, c_in: int, c: int) -> nn.Module:
    name = MACRO_OPS[op]
    if name.endswith("pool_3x3"):
        return PoolBranch(c_in, c, name[:3])
    return ConvBranch(c_in, c, int(name[-1]), name.startswith("sep"))


class MacroLayer(nn.Module):
    """Every op of ``ops`` (the shared network) or only the chosen one (a discrete child)."""

    def __init__(self, layer_id: int, c: int, ops: Sequence[int]) -> None:
        super().__init__()
        self.branches = nn.ModuleDict({str(op): make_branch(op, c, c) for op in ops})
        self.skip_bn = bn(c) if layer_id > 0 else None

    def forward(self, prev: list[torch.Tensor], op: int, skips: Sequence[int]) -> torch.Tensor:
        out = self.branches[str(op)](prev[-1])
        if self.skip_bn is None:
            return out
        for i, bit in enumerate(skips):
            if bit:
                out = out + prev[i]
        return self.skip_bn(out)


class EnasMacroNet(nn.Module):
    """The macro search network (``arc=None``: every op of ``num_branches``, shared, the child
    chosen by ``set_arc``) or one fixed child (``arc``: a flat row). Defaults:
    ``cifar10_macro_search.sh`` (12 layers, 36 filters, 6 branches, keep 0.9)."""

    def __init__(
        self,
        C: int = 36,
        num_layers: int = 12,
        num_branches: int = 6,
        num_classes: int = 10,
        in_channels: int = 3,
        keep_prob: float = 0.9,
        arc: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.num_layers, self.keep_prob = num_layers, keep_prob
        d = num_layers // 3
        self.pool_layers = (d - 1, 2 * d - 1)  # L95-96
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), bn(C))
        self.choice = split_macro_arc(arc, num_layers) if arc is not None else None
        self.layers = nn.ModuleList(
            MacroLayer(i, C, range(num_branches) if arc is None else [self.choice[i][0]])
            for i in range(num_layers)
        )
        self.reductions = nn.ModuleDict(
            {
                str(p): nn.ModuleList(
                    FactorizedReduction(C, C, batch_stats=False, relu=False) for _ in range(p + 2)
                )
                for p in self.pool_layers
            }
        )
        self.fc = nn.Linear(C, num_classes, bias=False)

    def set_arc(self, row: Sequence[int]) -> None:
        self.choice = split_macro_arc(row, self.num_layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.choice is None:
            raise ValueError("no child chosen: call set_arc first")
        prev = [self.stem(x)]
        for i, layer in enumerate(self.layers):
            op, skips = self.choice[i]
            prev.append(layer(prev, op, skips))
            if str(i) in self.reductions:
                prev = [fr(h) for fr, h in zip(self.reductions[str(i)], prev, strict=True)]
        x = F.dropout(prev[-1].mean((2, 3)), 1.0 - self.keep_prob, self.training)
        return self.fc(x)

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self(x), None

    aux_head = None


def copy_child_weights(child: EnasMacroNet, shared: EnasMacroNet) -> None:
    """Load the shared network's weights of ``child``'s arc into ``child``."""
    state = {}
    for name, t in shared.state_dict().items():
        parts = name.split(".")
        if parts[0] != "layers" or parts[2] != "branches":
            state[name] = t
        elif int(parts[3]) == child.choice[int(parts[1])][0]:
            state[name] = t
    child.load_state_dict(state)
