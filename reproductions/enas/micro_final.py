"""ENAS's own final micro network: a fixed arc in the network ``scripts/cifar10_micro_final.sh``
trains (Pham et al., ICML 2018, Sect. 3.2; melodyguan/enas @4bcfd73 ``src/cifar10/
micro_child.py`` with ``fixed_arc`` set: ``_model`` L240-339, ``_fixed_layer`` L403-517,
``_fixed_conv`` L341-367, ``_fixed_combine`` L369-401, ``_maybe_calibrate_size`` L209-238).

Not the search network (``common.supernets.enas_micro``) and not the DARTS network:

- a layer calibrates its two inputs as in search, then always passes input 1 through a
  ReLU-1x1 conv-BN (``layer_base``, L416-424);
- a reduction layer has no factorized reduction in front: the ops on the two cell inputs
  take stride 2 (L434, L474), an identity on them becomes a factorized reduction (L457-459);
- the cell output is the concatenation of the unused states, the cell inputs factorized-
  reduced when a reduction cell leaves them unused (L378-399): no 1x1 conv after it, so a
  layer is ``#unused x C`` channels wide and the next layer's calibration brings it back;
- drop path on every non-identity op, its drop rate growing with the layer and with the
  training step (L196-207, L465-468): ``step_ratio`` (set by the trainer, 1 by default);
- strided convs and pools pad as TensorFlow's "SAME" (bottom/right first); average pools
  count real pixels only (``tf.layers.average_pooling2d``);
- the auxiliary head (after the layer behind the second reduction, L112-113) convolves its
  2x2 map with a 2x2 kernel under "SAME" padding (L310-312), so the map stays 2x2;
- every BN is affine (``image_ops.batch_norm``: ``offset`` and ``scale``), no conv has a bias.

The official count ("Model has N params", L721-725) is over the trainable variables without
the auxiliary head: ``count_params(net, aux=False)``. The optimiser does not get the head's
variables either (L727-729): it stays at its initialisation while its loss trains the trunk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from common.controllers.micro_policy import MICRO_OPS
from common.supernets.enas_micro import FactorizedReduction

Arc = Sequence[int]  # flat, 4 per node: x_id, x_op, y_id, y_op

# scripts/cifar10_micro_final.sh @4bcfd73 L5-6: the released normal and reduction arcs
FINAL_ARC_NORMAL = (0, 2, 0, 0, 0, 4, 0, 1, 0, 4, 1, 1, 1, 0, 0, 1, 0, 2, 1, 1)
FINAL_ARC_REDUCE = (1, 0, 1, 0, 0, 3, 0, 2, 1, 1, 3, 1, 1, 0, 0, 4, 0, 3, 1, 1)


def same_pad(x: torch.Tensor, k: int, s: int, value: float = 0.0) -> torch.Tensor:
    """TensorFlow's "SAME" padding for a ``k`` x ``k`` window with stride ``s``."""
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=value)


def bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)  # image_ops.py L92: eps 1e-5, decay 0.9


class SameConv(nn.Conv2d):
    """A bias-free conv padded as TensorFlow's "SAME"."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1):
        super().__init__(c_in, c_out, k, stride, 0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(same_pad(x, self.kernel_size[0], self.stride[0]))


class Pool(nn.Module):
    """3x3 max or average pool, "SAME" (average over the real pixels only)."""

    def __init__(self, kind: str, stride: int) -> None:
        super().__init__()
        self.kind, self.stride = kind, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "max":
            return F.max_pool2d(same_pad(x, 3, self.stride, -math.inf), 3, self.stride)
        total = F.avg_pool2d(same_pad(x, 3, self.stride), 3, self.stride)
        count = F.avg_pool2d(same_pad(torch.ones_like(x[:1, :1]), 3, self.stride), 3, self.stride)
        return total / count


def relu_conv_bn(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False), bn(c_out))


def sep_conv(c: int, k: int, stride: int) -> nn.Sequential:
    """``_fixed_conv``: (ReLU, depthwise k x k, pointwise 1x1, BN) twice, the stride first."""
    layers: list[nn.Module] = []
    for i in range(2):
        layers += [
            nn.ReLU(),
            SameConv(c, c, k, stride if i == 0 else 1, groups=c),
            nn.Conv2d(c, c, 1, bias=False),
            bn(c),
        ]
    return nn.Sequential(*layers)


def fixed_op(op: int, c: int, stride: int) -> nn.Module:
    """L436-464 (inputs always have ``c`` channels here: the 1x1 branches never build)."""
    name = MICRO_OPS[op]
    if name.startswith("sep_conv"):
        return sep_conv(c, int(name[-1]), stride)
    if name.endswith("pool_3x3"):
        return Pool(name[:3], stride)
    return FactorizedReduction(c, c, batch_stats=False, relu=False) if stride > 1 else nn.Identity()


def drop_path(x: torch.Tensor, keep: float) -> torch.Tensor:
    """image_ops.py L9-19: keep a whole example with probability ``keep``, scaled by 1/keep."""
    mask = torch.floor(keep + torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype))
    return x / keep * mask


class FixedLayer(nn.Module):
    def __init__(self, arc: Arc, c0: int, c1: int, hw0: int, hw1: int, c: int, stride: int) -> None:
        super().__init__()
        self.nodes = [tuple(arc[4 * i : 4 * i + 4]) for i in range(len(arc) // 4)]
        n = len(self.nodes)
        self.pool_x: nn.Module = nn.Identity()
        if hw0 != hw1:  # L217-221
            self.pool_x = FactorizedReduction(c0, c, batch_stats=False, relu=True)
        elif c0 != c:  # L222-228
            self.pool_x = relu_conv_bn(c0, c)
        self.pool_y = relu_conv_bn(c1, c) if c1 != c else nn.Identity()  # L230-237
        self.base = relu_conv_bn(c, c)  # layer_base, L416-424
        self.ops = nn.ModuleList(
            fixed_op(op, c, stride if i in (0, 1) else 1)
            for node in self.nodes
            for i, op in ((node[0], node[1]), (node[2], node[3]))
        )
        used = {i for node in self.nodes for i in (node[0], node[2])}
        self.unused = [i for i in range(n + 2) if i not in used]
        # _fixed_combine L383-392: an unused cell input of a reduction cell is reduced
        self.combine = nn.ModuleDict(
            {
                str(i): FactorizedReduction(c, c, batch_stats=False, relu=False)
                for i in self.unused
                if i < 2 and stride > 1
            }
        )
        self.out_channels = len(self.unused) * c
        self.drop_keep: float | None = None  # set by the network: this layer's keep at the end

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, step_ratio: float) -> torch.Tensor:
        states = [self.pool_x(s0), self.base(self.pool_y(s1))]
        for k, (x_id, x_op, y_id, y_op) in enumerate(self.nodes):
            out = 0
            for b, (i, op) in enumerate(((x_id, x_op), (y_id, y_op))):
                h = self.ops[2 * k + b](states[i])
                if self.training and self.drop_keep is not None and op != 4:  # L465-468
                    h = drop_path(h, 1.0 - step_ratio * (1.0 - self.drop_keep))
                out = out + h
            states.append(out)
        outs = [self.combine[str(i)](states[i]) if str(i) in self.combine else states[i]
                for i in self.unused]  # fmt: skip
        return torch.cat(outs, 1)


class AuxHead(nn.Module):
    """L293-323: ReLU, 5x5 average pool stride 3 ("VALID"), 1x1 conv to 128, BN, ReLU, an
    ``hw`` x ``hw`` conv to 768 under "SAME" padding, BN, ReLU, global pool, linear."""

    def __init__(self, c: int, hw: int, num_classes: int) -> None:
        super().__init__()
        k = (hw - 5) // 3 + 1
        self.features = nn.Sequential(
            nn.ReLU(),
            nn.AvgPool2d(5, 3),
            nn.Conv2d(c, 128, 1, bias=False),
            nn.BatchNorm2d(128, track_running_stats=False),  # L303: is_training=True
            nn.ReLU(),
            SameConv(128, 768, k),
            nn.BatchNorm2d(768, track_running_stats=False),  # L313
            nn.ReLU(),
        )
        self.fc = nn.Linear(768, num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean((2, 3)))


class EnasMicroFinalNet(nn.Module):
    """``num_layers + 2`` fixed layers of ``C`` channels (doubled at each reduction, at
    ``num_layers // 3`` and ``2 * (num_layers // 3) + 1``), the stem 3C wide (L248-252).
    Defaults: ``cifar10_micro_final.sh`` (15 layers, 36 filters, keep 0.8, drop path keep
    0.6, auxiliary head)."""

    def __init__(
        self,
        normal_arc: Arc = FINAL_ARC_NORMAL,
        reduce_arc: Arc = FINAL_ARC_REDUCE,
        C: int = 36,
        num_layers: int = 15,
        num_classes: int = 10,
        in_channels: int = 3,
        keep_prob: float = 0.8,
        drop_path_keep_prob: float | None = 0.6,
        use_aux_head: bool = True,
        image_size: int = 32,
        in_chans: int | None = None,  # timm's names for in_channels and image_size
        img_size: int | tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        if img_size is not None:  # timm passes (H, W)
            image_size = img_size if isinstance(img_size, int) else img_size[-1]
        in_channels = in_chans or in_channels
        if len(normal_arc) % 4 or len(normal_arc) != len(reduce_arc):
            raise ValueError("arcs need 4 entries per node, as many for both cells")
        self.keep_prob = keep_prob
        self.step_ratio = 1.0  # min(1, (step + 1) / total steps), L202-203: the trainer sets it
        d = num_layers // 3
        self.pool_layers = (d, 2 * d + 1)  # L109-110
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 3 * C, 3, padding=1, bias=False), bn(3 * C)
        )
        self.layers = nn.ModuleList()
        self.aux_index = self.pool_layers[-1] + 1 if use_aux_head else None
        self.aux_head: AuxHead | None = None
        c, (c0, hw0), (c1, hw1) = C, (3 * C, image_size), (3 * C, image_size)
        for layer_id in range(num_layers + 2):
            stride = 2 if layer_id in self.pool_layers else 1
            c *= stride
            arc = reduce_arc if stride > 1 else normal_arc
            layer = FixedLayer(arc, c0, c1, hw0, hw1, c, stride)
            if drop_path_keep_prob is not None:  # L199-200: 1 - (l+1)/(L+2) * (1 - keep)
                ratio = (layer_id + 1) / (num_layers + 2)
                layer.drop_keep = 1.0 - ratio * (1.0 - drop_path_keep_prob)
            self.layers.append(layer)
            (c0, hw0), (c1, hw1) = (c1, hw1), (layer.out_channels, hw1 // stride)
            if layer_id == self.aux_index:
                self.aux_head = AuxHead(c1, hw1, num_classes)
        self.num_features = c1
        self.classifier = nn.Linear(c1, num_classes, bias=False)  # L335-338

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.stem(x)
        s0, s1, aux = x, x, None
        for layer_id, layer in enumerate(self.layers):
            s0, s1 = s1, layer(s0, s1, self.step_ratio)
            if layer_id == self.aux_index and self.training:
                aux = self.aux_head(s1)
        x = F.relu(s1).mean((2, 3))
        x = F.dropout(x, 1.0 - self.keep_prob, self.training)
        return self.classifier(x), aux

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_aux(x)[0]


def count_params(net: nn.Module, aux: bool = False) -> int:
    """Trainable parameters; without the auxiliary head as the official print (L721-725)."""
    skip = {id(p) for p in net.aux_head.parameters()} if (net.aux_head and not aux) else set()
    return sum(p.numel() for p in net.parameters() if id(p) not in skip)
