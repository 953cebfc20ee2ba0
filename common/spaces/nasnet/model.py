"""NASNet's network builder (Zoph et al., CVPR 2018, Sect. 3 and Fig. 2; TF-slim ``nasnet.py``
@ 03cdc5f ``_build_nasnet_base``), which PNAS reuses (TF-slim ``pnasnet.py`` @ 03cdc5f
``_build_pnasnet_base``), for any cell of ``common.spaces.nasnet.cell``.

A network is the stem, then ``num_cells`` cells with ``num_reduction_layers`` reductions at
``calc_reduction_layers`` (evenly spaced); the filters double at each reduction. Two layouts:

- ``"nasnet"``: a separate reduction cell is *inserted* before cell r at each reduction index
  r, so 18 cells with 2 reductions are 3 stacks of N = 6 normal cells.
- ``"pnas"``: PNAS has one cell; the cell *at* index r runs with stride 2.

"N @ F" (NASNet Sect. 4.1): N normal cells per stack, F filters in the penultimate layer (the
last cell's output), i.e. ``F = len(output states) * num_conv_filters * 4`` after two
reductions; 6 @ 768 is ``num_conv_filters=32`` with NASNet-A's 6-state normal cell.

Stems: CIFAR, a 3x3 conv to ``num_conv_filters * stem_multiplier`` channels and BN; ImageNet,
a stride-2 3x3 VALID conv to ``32 * stem_multiplier`` channels and BN, then two stride-2
cells (NASNet's reduction cell, PNAS's cell) at 1/4 and 1/2 of the filters. The auxiliary
head (``_build_aux_head``) sits after the cell before the second reduction.

Each cell starts like TF ``_cell_base``: h_{c-2} is factorized-reduced when its resolution is
twice h_{c-1}'s, or ReLU-1x1-BN-projected when its width differs; h_{c-1} gets ReLU-1x1-BN.
Output states at the wrong resolution (inputs of a reduction cell) are factorized-reduced.
Deviations: symmetric PyTorch padding instead of TF's SAME (same parameter count, shifted
pixels at stride 2); drop-path with a constant rate (TF scales it by depth and step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from timm.layers import create_conv2d, drop_path
from torch import nn

from common.errors import NasReproError, choices_error
from common.spaces.nasnet.cell import NUM_INPUTS, Cell
from common.spaces.nasnet.ops import FactorizedReduction, ReluConvBn, bn, make_op


def calc_reduction_layers(num_cells: int, num_reduction_layers: int) -> list[int]:
    """TF-slim ``nasnet_utils.calc_reduction_layers``: reductions evenly spaced."""
    return [
        int(p / (num_reduction_layers + 1) * num_cells) for p in range(1, num_reduction_layers + 1)
    ]


@dataclass(frozen=True)
class NetworkConfig:
    """The hyper-parameters of TF-slim's ``*_config()`` functions, same names."""

    num_cells: int
    num_conv_filters: int
    stem: str = "cifar"  # "cifar" | "imagenet"
    stem_multiplier: float = 3.0
    layout: str = "nasnet"  # "nasnet" | "pnas"
    skip_reduction_layer_input: bool = False
    num_reduction_layers: int = 2
    filter_scaling_rate: float = 2.0
    use_aux_head: bool = True
    dense_dropout: float = 0.0  # 1 - dense_dropout_keep_prob
    bn_eps: float = 1e-3
    image_size: int = 32
    num_classes: int = 10
    in_chans: int = 3

    def __post_init__(self) -> None:
        if self.stem not in ("cifar", "imagenet"):
            raise choices_error("NASNet stem", self.stem, ("cifar", "imagenet"))
        if self.layout not in ("nasnet", "pnas"):
            raise choices_error("NASNet layout", self.layout, ("nasnet", "pnas"))
        if self.num_cells < 1 or self.num_conv_filters < 1:
            raise NasReproError("num_cells and num_conv_filters must be positive")


class CellModule(nn.Module):
    """One cell of ``cell`` with ``filters`` filters; ``c_prev=None`` when there is no
    h_{c-2} (the first stem cell uses h_{c-1} unprocessed, as TF does)."""

    def __init__(
        self,
        cell: Cell,
        c_cur: int,
        c_prev: int | None,
        prev_reduced: bool,
        filters: int,
        stride: int,
        eps: float,
    ) -> None:
        super().__init__()
        self.cell = cell
        self.stride = stride
        self.drop_prob = 0.0
        self.has_prev = c_prev is not None
        if c_prev is None:
            self.prep_prev: nn.Module = nn.Identity()
            c_h1 = c_cur
        elif prev_reduced:
            self.prep_prev = FactorizedReduction(c_prev, filters, 2, eps, relu=True)
            c_h1 = filters
        elif c_prev != filters:
            self.prep_prev = ReluConvBn(c_prev, filters, (1,), 1, eps)
            c_h1 = filters
        else:
            self.prep_prev = nn.Identity()
            c_h1 = filters
        self.prep_cur = ReluConvBn(c_cur, filters, (1,), 1, eps)
        channels = [filters, c_h1]
        self.ops = nn.ModuleList()
        for b, blk in enumerate(cell.blocks):
            for inp, op in ((blk.in_a, blk.op_a), (blk.in_b, blk.op_b)):
                s = stride if inp < NUM_INPUTS else 1
                self.ops.append(make_op(op, channels[inp], filters, s, eps))
            channels.append(filters if blk.combine == "add" else 2 * filters)
            del b
        self.outputs = cell.output_states()
        self.fix = nn.ModuleDict()
        for s in self.outputs:
            if s < NUM_INPUTS and (stride == 2 or channels[s] != filters):
                self.fix[str(s)] = FactorizedReduction(channels[s], filters, stride, eps, False)
                channels[s] = filters
        self.out_channels = sum(channels[s] for s in self.outputs)

    def forward(self, cur: torch.Tensor, prev: torch.Tensor | None) -> torch.Tensor:
        h1 = self.prep_prev(prev if self.has_prev else cur)
        states = [self.prep_cur(cur), h1]
        for b, blk in enumerate(self.cell.blocks):
            ys = []
            for j, inp in enumerate((blk.in_a, blk.in_b)):
                op = self.ops[2 * b + j]
                y = op(states[inp])
                if self.drop_prob > 0 and self.training and not isinstance(op, nn.Identity):
                    y = drop_path(y, self.drop_prob, self.training)
                ys.append(y)
            states.append(ys[0] + ys[1] if blk.combine == "add" else torch.cat(ys, dim=1))
        outs = [
            self.fix[str(s)](states[s]) if str(s) in self.fix else states[s] for s in self.outputs
        ]
        return torch.cat(outs, dim=1)


class AuxHead(nn.Module):
    """TF ``_build_aux_head``: ReLU, 5x5/3 average pool (VALID), 1x1 conv to 128, BN, ReLU,
    a conv covering the whole map to 768, BN, ReLU, fully connected."""

    def __init__(self, c_in: int, size: int, num_classes: int, eps: float) -> None:
        super().__init__()
        k = (size - 5) // 3 + 1
        if k < 1:
            raise NasReproError(f"auxiliary head needs a map of at least 5x5, got {size}x{size}")
        self.features = nn.Sequential(
            nn.ReLU(),
            nn.AvgPool2d(5, stride=3),
            create_conv2d(c_in, 128, 1, bias=False),
            bn(128, eps),
            nn.ReLU(),
            nn.Conv2d(128, 768, k, bias=False),
            bn(768, eps),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class NASNetwork(nn.Module):
    """A NASNet-space network; ``forward`` returns logits, or ``(logits, aux_logits)`` when
    training with the auxiliary head."""

    def __init__(self, normal: Cell, reduction: Cell | None, config: NetworkConfig) -> None:
        super().__init__()
        cfg = config
        self.config = cfg
        if cfg.layout == "pnas" and reduction is not None:
            raise NasReproError("the PNAS layout has one cell; pass reduction=None")
        if cfg.layout == "nasnet" and reduction is None:
            raise NasReproError("the NASNet layout needs a reduction cell")
        reduction = normal if reduction is None else reduction
        eps, nf = cfg.bn_eps, cfg.num_conv_filters
        # outputs: (channels, spatial size) of each state in TF's cell_outputs list
        if cfg.stem == "cifar":
            c0, size = int(nf * cfg.stem_multiplier), cfg.image_size
            self.stem = nn.Sequential(create_conv2d(cfg.in_chans, c0, 3, bias=False), bn(c0, eps))
        else:
            c0, size = int(32 * cfg.stem_multiplier), (cfg.image_size - 3) // 2 + 1
            self.stem = nn.Sequential(
                nn.Conv2d(cfg.in_chans, c0, 3, stride=2, bias=False), bn(c0, eps)
            )
        outputs: list[tuple[int, int] | None] = [None, (c0, size)]
        self.cells = nn.ModuleList()
        self.plan: list[tuple[int, int | None]] = []  # (index of h_{c-1}, index of h_{c-2})

        def add(cell: Cell, prev_idx: int | None, scaling: float, stride: int) -> None:
            cur_c, cur_s = outputs[-1]  # type: ignore[misc]
            prev = outputs[prev_idx] if prev_idx is not None else None
            module = CellModule(
                cell,
                cur_c,
                prev[0] if prev else None,
                bool(prev and prev[1] != cur_s),
                int(nf * scaling),
                stride,
                eps,
            )
            self.cells.append(module)
            self.plan.append((len(outputs) - 1, prev_idx if prev else None))
            outputs.append((module.out_channels, math.ceil(cur_s / stride)))

        if cfg.stem == "imagenet":
            scaling = 1.0 / cfg.filter_scaling_rate**2
            for _ in range(2):
                add(reduction, len(outputs) - 2, scaling, 2)
                scaling *= cfg.filter_scaling_rate
        reductions = calc_reduction_layers(cfg.num_cells, cfg.num_reduction_layers)
        aux_after = reductions[1] - 1 if len(reductions) >= 2 and cfg.use_aux_head else None
        self.aux_index: int | None = None
        self.aux_head: AuxHead | None = None
        scaling, prev_idx = 1.0, None
        for cell_num in range(cfg.num_cells):
            is_red = cell_num in reductions
            if cfg.layout == "nasnet":
                if cfg.skip_reduction_layer_input:
                    prev_idx = len(outputs) - 2
                if is_red:
                    scaling *= cfg.filter_scaling_rate
                    add(reduction, len(outputs) - 2, scaling, 2)
                if not cfg.skip_reduction_layer_input:
                    prev_idx = len(outputs) - 2
                add(normal, prev_idx, scaling, 1)
            else:
                if is_red:
                    scaling *= cfg.filter_scaling_rate
                if cfg.skip_reduction_layer_input or not is_red:
                    prev_idx = len(outputs) - 2
                add(normal, prev_idx, scaling, 2 if is_red else 1)
            if cell_num == aux_after:
                self.aux_index = len(self.cells) - 1
                c, s = outputs[-1]  # type: ignore[misc]
                self.aux_head = AuxHead(c, s, cfg.num_classes, eps)
        self.num_features = outputs[-1][0]  # type: ignore[index]
        self.head_drop = nn.Dropout(cfg.dense_dropout)
        self.classifier = nn.Linear(self.num_features, cfg.num_classes)

    def set_drop_path(self, prob: float) -> None:
        for cell in self.cells:
            cell.drop_prob = prob  # type: ignore[assignment]

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        states: list[torch.Tensor | None] = [None, self.stem(x)]
        aux = None
        for i, (cell, (cur, prev)) in enumerate(zip(self.cells, self.plan)):
            states.append(cell(states[cur], states[prev] if prev is not None else None))
            if i == self.aux_index and self.aux_head is not None and self.training:
                aux = self.aux_head(states[-1])
        return torch.relu(states[-1]), aux  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor):  # noqa: ANN201 - logits or (logits, aux logits)
        feats, aux = self.forward_features(x)
        logits = self.classifier(self.head_drop(feats.mean((2, 3))))
        return (logits, aux) if aux is not None else logits


def notation(model: NASNetwork) -> str:
    """The paper's "N @ F" of a network: normal cells per stack @ penultimate filters."""
    cfg = model.config
    n = cfg.num_cells // (cfg.num_reduction_layers + 1)
    return f"{n} @ {model.num_features}"


def count_params(model: nn.Module, aux: bool = True) -> int:
    """Trainable parameters, with or without the auxiliary head."""
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if p.requires_grad and (aux or not name.startswith("aux_head."))
    )


def count_mult_adds(model: nn.Module, image_size: int, in_chans: int = 3) -> int:
    """Multiply-adds of one image in eval mode (no auxiliary head), with torch's
    ``FlopCounterMode`` (which counts a multiply-add as 2 FLOPs, convs and matmuls only)."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, in_chans, image_size, image_size))
    model.train(was_training)
    return counter.get_total_flops() // 2
