"""ENAS's micro-space child network with shared weights, and the same child as a discrete
network (Pham et al., ICML 2018, Sect. 2.3 and 3.2; official code melodyguan/enas @4bcfd73
``src/cifar10/micro_child.py``, line numbers below).

Why not the DARTS skeleton (``darts.py``): ENAS's search network differs from it in every
part around the edges. A layer first calibrates its two inputs (ReLU, factorized reduction
or 1x1 conv-BN where shape or width differ, ``_maybe_calibrate_size`` L209-238); a node sums
an ``x`` and a ``y`` branch whose weights are separate per branch, input and op
(``_enas_cell`` / ``_enas_conv`` index them by ``prev_cell`` inside the ``x`` / ``y``
scopes, L519-623), so the same input twice is two edges; the cell outputs its *unused*
states (the cell inputs included) through a ReLU and one 1x1 conv whose weight is a slice per
state (``final_conv``, L659-692); a reduction layer is a factorized reduction followed by a
stride-1 cell (L273-279); an auxiliary head sits after the second reduction (L112-113,
L287-323). The edge conventions are the DARTS skeleton's: edge ``e`` holds every op in a
``ModuleDict`` and a ``SinglePathMixer`` switches one op on per chosen edge.

Edges of a cell, in order: node ``i``, branch ``x`` then ``y``, input ``j < 2 + i``.

Faithful details: ``sep_conv`` is ReLU, depthwise KxK, pointwise 1x1, BN, twice (L579-623);
pools are 3x3 stride 1 'SAME' (average over real pixels only), identity has no weights;
no bias anywhere, the classifier included (L335-338); dropout before it (keep 0.9 in search,
L333-334). ``batch_stats=True`` (search): every BN normalises with the batch's statistics,
in training and evaluation alike, as the official search graph does (``_model`` sets
``is_training = True`` whenever no arc is fixed, L243-244).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from common.controllers.micro_policy import MICRO_OPS
from common.supernets.mixers import SinglePathMixer

CELL_TYPES = ("normal", "reduce")
Arc = Sequence[tuple[int, int, int, int]]  # per node: x_id, x_op, y_id, y_op


def cell_edges(num_cells: int) -> tuple[tuple[int, int, int], ...]:
    """(node, branch, input) of every edge of a cell."""
    return tuple(
        (node, branch, inp)
        for node in range(num_cells)
        for branch in (0, 1)
        for inp in range(2 + node)
    )


def bn(c: int, batch_stats: bool) -> nn.BatchNorm2d:
    # image_ops.py L92: epsilon 1e-5, decay 0.9 (PyTorch momentum 0.1)
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1, track_running_stats=not batch_stats)


class SepConv(nn.Module):
    """``_enas_conv`` / ``_fixed_conv``: (ReLU, depthwise KxK, pointwise 1x1, BN) twice; the
    first depthwise conv carries the stride (L349-365)."""

    def __init__(self, c: int, k: int, stride: int, batch_stats: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(2):
            s = stride if i == 0 else 1
            layers += [
                nn.ReLU(),
                nn.Conv2d(c, c, k, s, k // 2, groups=c, bias=False),
                nn.Conv2d(c, c, 1, bias=False),
                bn(c, batch_stats),
            ]
        self.op = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class FactorizedReduction(nn.Module):
    """``_factorized_reduction`` (L115-163): two stride-2 1x1 convs, the second on the input
    shifted by one pixel, concatenated, BN. ``relu`` first where the caller applies one."""

    def __init__(self, c_in: int, c_out: int, batch_stats: bool, relu: bool) -> None:
        super().__init__()
        self.relu = relu
        self.path1 = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.path2 = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.bn = bn(c_out, batch_stats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.relu:
            x = F.relu(x)
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.path1(x), self.path2(shifted)], 1))


def conv1x1_bn(c_in: int, c_out: int, batch_stats: bool) -> nn.Module:
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False), bn(c_out, batch_stats))


def make_op(name: str, c: int, batch_stats: bool) -> nn.Module:
    """A stride-1 op of the search cell (L567-573)."""
    if name.startswith("sep_conv"):
        return SepConv(c, int(name[-1]), 1, batch_stats)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, 1, 1, count_include_pad=False)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, 1, 1)
    if name == "skip_connect":
        return nn.Identity()
    raise ValueError(f"unknown ENAS micro op {name!r}")


class Calibrate(nn.Module):
    """``_maybe_calibrate_size`` (L209-238): input 0 reduced (ReLU + factorized reduction) when
    it has twice the resolution, else 1x1-convolved when its width differs; input 1
    1x1-convolved when its width differs."""

    def __init__(self, c0: int, c1: int, c: int, reduce0: bool, batch_stats: bool) -> None:
        super().__init__()
        self.pool_x: nn.Module = nn.Identity()
        if reduce0:
            self.pool_x = FactorizedReduction(c0, c, batch_stats, relu=True)
        elif c0 != c:
            self.pool_x = conv1x1_bn(c0, c, batch_stats)
        self.pool_y = conv1x1_bn(c1, c, batch_stats) if c1 != c else nn.Identity()

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> list[torch.Tensor]:
        return [self.pool_x(s0), self.pool_y(s1)]


class MicroSuperCell(nn.Module):
    """``_enas_layer`` (L625-696): every op on every (node, branch, input) edge."""

    def __init__(self, num_cells: int, c0: int, c1: int, c: int, reduce0: bool, batch_stats: bool):
        super().__init__()
        self.num_cells = num_cells
        self.calibrate = Calibrate(c0, c1, c, reduce0, batch_stats)
        self._edges = cell_edges(num_cells)
        self.edges = nn.ModuleList(
            nn.ModuleDict({op: make_op(op, c, batch_stats) for op in MICRO_OPS})
            for _ in self._edges
        )
        # final_conv (L685-692): a [C, C] slice per state, gathered for the unused ones
        self.final_w = nn.Parameter(torch.empty(num_cells + 2, c, c))
        nn.init.normal_(self.final_w, std=(2.0 / c) ** 0.5)  # He normal per 1x1 slice
        self.final_bn = bn(c, batch_stats)

    def forward(self, s0, s1, mixer: SinglePathMixer, state) -> torch.Tensor:
        states = self.calibrate(s0, s1)
        used = [0] * (self.num_cells + 2)
        e = 0
        for node in range(self.num_cells):
            total = None
            for _branch in (0, 1):
                found = 0
                for inp in range(2 + node):
                    out = mixer.mix(self.edges[e], states[inp], e, state)
                    e += 1
                    if out is None:
                        continue
                    found, used[inp] = found + 1, used[inp] + 1
                    total = out if total is None else total + out
                if found != 1:
                    raise ValueError(f"node {node}: each branch needs exactly one active edge")
            states.append(total)
        unused = [i for i, u in enumerate(used) if u == 0]
        weight = torch.cat([self.final_w[i] for i in unused], 1)[:, :, None, None]
        out = F.conv2d(F.relu(torch.cat([states[i] for i in unused], 1)), weight)
        return self.final_bn(out)


class MicroChildCell(nn.Module):
    """The same computation for one fixed arc, only the chosen ops built: the discrete network
    a shared-weight child must equal."""

    def __init__(self, arc: Arc, c0: int, c1: int, c: int, reduce0: bool, batch_stats: bool):
        super().__init__()
        self.arc = [tuple(int(v) for v in node) for node in arc]
        self.calibrate = Calibrate(c0, c1, c, reduce0, batch_stats)
        self.ops = nn.ModuleList(
            make_op(MICRO_OPS[op], c, batch_stats) for node in self.arc for op in (node[1], node[3])
        )
        used = {i for node in self.arc for i in (node[0], node[2])}
        self.unused = [i for i in range(len(self.arc) + 2) if i not in used]
        self.final_conv = nn.Conv2d(len(self.unused) * c, c, 1, bias=False)
        self.final_bn = bn(c, batch_stats)

    def forward(self, s0, s1) -> torch.Tensor:
        states = self.calibrate(s0, s1)
        for k, (x_id, _, y_id, _) in enumerate(self.arc):
            states.append(self.ops[2 * k](states[x_id]) + self.ops[2 * k + 1](states[y_id]))
        out = torch.cat([states[i] for i in self.unused], 1)
        return self.final_bn(self.final_conv(F.relu(out)))


class AuxHead(nn.Module):
    """L293-323: ReLU, 5x5 average pool stride 3, 1x1 conv to 128, BN, ReLU, a conv over the
    whole map to 768, BN, ReLU, global pool, linear (no bias)."""

    def __init__(self, c: int, hw: int, num_classes: int, batch_stats: bool) -> None:
        super().__init__()
        k = (hw - 5) // 3 + 1
        self.features = nn.Sequential(
            nn.ReLU(),
            nn.AvgPool2d(5, 3),
            nn.Conv2d(c, 128, 1, bias=False),
            bn(128, True),  # L303, L313: is_training=True in the head
            nn.ReLU(),
            nn.Conv2d(128, 768, k, bias=False),
            bn(768, True),
            nn.ReLU(),
        )
        self.fc = nn.Linear(768, num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean((2, 3)))


class EnasMicroNet(nn.Module):
    """The search child network (``arc=None``: every op, shared, chosen by ``set_arc``) or one
    fixed child (``arc={"normal": ..., "reduce": ...}``). ``num_layers + 2`` layers, the
    reductions at ``num_layers // 3`` and ``2 * (num_layers // 3) + 1`` (L109-110)."""

    def __init__(
        self,
        C: int = 20,
        num_layers: int = 6,
        num_cells: int = 5,
        num_classes: int = 10,
        in_channels: int = 3,
        keep_prob: float = 0.9,
        use_aux_head: bool = True,
        image_size: int = 32,
        batch_stats: bool = True,
        arc: dict[str, Arc] | None = None,
    ) -> None:
        super().__init__()
        self.num_cells, self.keep_prob = num_cells, keep_prob
        d = num_layers // 3
        self.pool_layers = (d, 2 * d + 1)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 3 * C, 3, padding=1, bias=False), bn(3 * C, batch_stats)
        )
        self.reductions = nn.ModuleDict()
        self.cells = nn.ModuleList()
        self.aux_head: AuxHead | None = None
        self.aux_index = self.pool_layers[-1] + 1 if use_aux_head else None
        c, c0, c1, hw = C, 3 * C, 3 * C, image_size
        for layer in range(num_layers + 2):
            reduce0 = False
            if layer in self.pool_layers:  # L274-279
                c, hw, reduce0 = 2 * c, hw // 2, True
                self.reductions[str(layer)] = FactorizedReduction(c1, c, batch_stats, relu=False)
                c0, c1 = c1, c
            if arc is None:
                cell = MicroSuperCell(num_cells, c0, c1, c, reduce0, batch_stats)
            else:
                kind = "reduce" if layer in self.pool_layers else "normal"
                cell = MicroChildCell(arc[kind], c0, c1, c, reduce0, batch_stats)
            self.cells.append(cell)
            c0, c1 = c1, c
            if layer == self.aux_index:
                self.aux_head = AuxHead(c, hw, num_classes, batch_stats)
        self.fc = nn.Linear(c, num_classes, bias=False)
        self.mixer = (
            SinglePathMixer(MICRO_OPS, len(cell_edges(num_cells)), CELL_TYPES)
            if arc is None
            else None
        )

    def set_arc(self, arc: dict[str, Arc]) -> None:
        """Switch the shared network to one child: per cell type, each node's two edges."""
        choice = {}
        for kind in CELL_TYPES:
            ops: list[str | None] = [None] * len(cell_edges(self.num_cells))
            for e, (node, branch, inp) in enumerate(cell_edges(self.num_cells)):
                x_id, x_op, y_id, y_op = arc[kind][node]
                if (inp, branch) in ((x_id, 0), (y_id, 1)):
                    ops[e] = MICRO_OPS[x_op if branch == 0 else y_op]
            choice[kind] = ops
        self.mixer.set_choice(choice)

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.stem(x)
        layers, aux = [x, x], None
        states = {t: self.mixer.state(t) for t in CELL_TYPES} if self.mixer else {}
        for layer, cell in enumerate(self.cells):
            if str(layer) in self.reductions:
                layers = [layers[-1], self.reductions[str(layer)](x)]
            kind = "reduce" if layer in self.pool_layers else "normal"
            if self.mixer is None:
                x = cell(layers[0], layers[1])
            else:
                x = cell(layers[0], layers[1], self.mixer, states[kind])
            layers = [layers[-1], x]
            if layer == self.aux_index and self.training:
                aux = self.aux_head(x)
        x = F.relu(x).mean((2, 3))
        x = F.dropout(x, 1.0 - self.keep_prob, self.training)
        return self.fc(x), aux

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_aux(x)[0]


def copy_child_weights(child: EnasMicroNet, shared: EnasMicroNet, arc: dict[str, Arc]) -> None:
    """Load the shared network's weights of ``arc`` into the discrete ``child``."""
    edges = cell_edges(shared.num_cells)
    index = {edge: e for e, edge in enumerate(edges)}
    state = {}
    for name, t in shared.state_dict().items():
        if not name.startswith("cells."):
            state[name] = t
    for layer, (cc, sc) in enumerate(zip(child.cells, shared.cells, strict=True)):
        kind = "reduce" if layer in shared.pool_layers else "normal"
        for name, t in sc.calibrate.state_dict().items():
            state[f"cells.{layer}.calibrate.{name}"] = t
        for name, t in sc.final_bn.state_dict().items():
            state[f"cells.{layer}.final_bn.{name}"] = t
        for k, (x_id, x_op, y_id, y_op) in enumerate(arc[kind]):
            for b, (inp, op) in enumerate(((x_id, x_op), (y_id, y_op))):
                src = sc.edges[index[(k, b, inp)]][MICRO_OPS[op]]
                for name, t in src.state_dict().items():
                    state[f"cells.{layer}.ops.{2 * k + b}.{name}"] = t
        w = torch.cat([sc.final_w[i] for i in cc.unused], 1)[:, :, None, None]
        state[f"cells.{layer}.final_conv.weight"] = w
    child.load_state_dict(state)
