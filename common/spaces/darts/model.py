"""Networks built from a DARTS genotype, trained from scratch to evaluate it (Liu, Simonyan &
Yang, ICLR 2019, Sect. 3.2 and App. A.2.1, A.2.3; authors' code: github.com/quark0/darts
``cnn/model.py`` and ``cnn/utils.py`` @ f276dd3).

- ``NetworkCIFAR``: 3x3 conv stem to ``3C`` channels, ``layers`` cells (reductions at 1/3 and
  2/3 of the depth), global pooling, linear. Paper setting: 20 cells, C = 36, auxiliary head
  (weight 0.4) after the second reduction cell, drop-path 0.2 (App. A.2.1).
- ``NetworkImageNet``: two stride-2 stems (3 -> C/2 -> C, then C -> C) bring 224x224 down to
  28x28 before the cells, 7x7 average pooling at the end. Paper setting: 14 cells, C = 48
  (``cnn/train_imagenet.py`` defaults), mobile setting < 600M multiply-adds (App. A.2.3).

Module names follow the authors' code, so their state dicts load. Deviation:
``forward`` returns the logits only, so any classifier trainer can use the networks;
``forward_with_aux`` returns ``(logits, aux_logits)`` as the code's ``forward`` does (aux is
None outside training or without the head).

Counting as the paper does: ``count_params_m`` is the code's ``count_parameters_in_MB`` (all
parameters except the auxiliary head's, divided by 1e6, BN affine parameters included);
``count_macs`` counts the multiply-adds of convolutions and linear layers.
"""

from __future__ import annotations

import torch
from torch import nn

from common.spaces.darts.genotype import NUM_INPUTS, Genotype
from common.spaces.darts.ops import FactorizedReduce, ReLUConvBN, make_op


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples with probability ``drop_prob`` and rescale the rest by 1/keep (as the
    code's ``utils.drop_path``, but out of place)."""
    if drop_prob <= 0.0:
        return x
    keep = 1.0 - drop_prob
    mask = torch.empty(x.size(0), 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class Cell(nn.Module):
    """A discrete cell: node i sums two ops of earlier states; the output concatenates the
    states in the genotype's concat list. In a reduction cell the ops on the two inputs have
    stride 2."""

    def __init__(
        self,
        genotype: Genotype,
        c_prev_prev: int,
        c_prev: int,
        c: int,
        reduction: bool,
        reduction_prev: bool,
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0: nn.Module
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(c_prev_prev, c)
        else:
            self.preprocess0 = ReLUConvBN(c_prev_prev, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0)
        entries = genotype.reduce if reduction else genotype.normal
        self._concat = genotype.reduce_concat if reduction else genotype.normal_concat
        self._steps = len(entries) // 2
        self._indices = tuple(inp for _, inp in entries)
        self.multiplier = len(self._concat)
        self._ops = nn.ModuleList(
            make_op(name, c, 2 if reduction and inp < NUM_INPUTS else 1) for name, inp in entries
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(self._steps):
            s = None
            for k in (2 * i, 2 * i + 1):
                op = self._ops[k]
                h = op(states[self._indices[k]])
                # The code drops every path except a plain identity (stride-1 skip_connect).
                if self.training and drop_prob > 0.0 and not isinstance(op, nn.Identity):
                    h = drop_path(h, drop_prob)
                s = h if s is None else s + h
            states.append(s)  # type: ignore[arg-type]
        return torch.cat([states[i] for i in self._concat], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    """Auxiliary classifier on the 8x8 feature map after the second reduction cell."""

    def __init__(self, c: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),  # 8x8 -> 2x2
            nn.Conv2d(c, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class AuxiliaryHeadImageNet(nn.Module):
    """Auxiliary classifier after the second reduction cell, on a 7x7 map for 224x224 inputs
    (the code's comment says 14x14; 7x7 pooled 5/2 gives the 2x2 the 2x2 conv needs). The code
    leaves out the BN after the 2x2 conv ("omitted in my earlier implementation due to a
    typo", kept out for the paper's results); so does this one."""

    def __init__(self, c: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.AvgPool2d(5, stride=2, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class _Network(nn.Module):
    """The cell stack and head shared by the CIFAR and ImageNet networks."""

    cells: nn.ModuleList
    auxiliary_head: nn.Module | None

    def _build_cells(
        self,
        genotype: Genotype,
        C: int,
        layers: int,
        c_stem: int,
        reduction_prev: bool,
    ) -> tuple[int, int]:
        """Add the cells; returns (channels into the classifier, channels into the aux head)."""
        c_prev_prev, c_prev, c_curr = c_stem, c_stem, C
        self.cells = nn.ModuleList()
        c_aux = c_prev
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_curr *= 2
            cell = Cell(genotype, c_prev_prev, c_prev, c_curr, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells.append(cell)
            c_prev_prev, c_prev = c_prev, cell.multiplier * c_curr
            if i == 2 * layers // 3:
                c_aux = c_prev
        return c_prev, c_aux

    def _stem(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(logits, aux_logits)``; the aux head runs only in training mode, as in the code."""
        logits_aux = None
        s0, s1 = self._stem(x)
        aux_at = 2 * self._layers // 3
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == aux_at and self.auxiliary_head is not None and self.training:
                logits_aux = self.auxiliary_head(s1)
        logits = self.classifier(self.global_pooling(s1).flatten(1))
        return logits, logits_aux

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0, s1 = self._stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
        return self.classifier(self.global_pooling(s1).flatten(1))


class NetworkCIFAR(_Network):
    """The CIFAR evaluation network (App. A.2.1). ``drop_path_prob`` is an attribute the
    training loop may change; the code raises it linearly from 0 to 0.2 over training."""

    def __init__(
        self,
        C: int = 36,  # the paper's and the code's name
        num_classes: int = 10,
        layers: int = 20,
        auxiliary: bool = True,
        *,
        genotype: Genotype,
        drop_path_prob: float = 0.0,
        in_channels: int = 3,  # 1 for the grey reduced-scale datasets (digits, Fashion-MNIST)
    ) -> None:
        super().__init__()
        self.genotype = genotype
        self._layers = layers
        self.drop_path_prob = drop_path_prob
        stem_multiplier = 3
        c_stem = stem_multiplier * C
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_stem),
        )
        c_out, c_aux = self._build_cells(genotype, C, layers, c_stem, reduction_prev=False)
        self.auxiliary_head = AuxiliaryHeadCIFAR(c_aux, num_classes) if auxiliary else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_out, num_classes)

    def _stem(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.stem(x)
        return s, s


class NetworkImageNet(_Network):
    """The ImageNet mobile-setting network (App. A.2.3), for 224x224 inputs."""

    def __init__(
        self,
        C: int = 48,
        num_classes: int = 1000,
        layers: int = 14,
        auxiliary: bool = True,
        *,
        genotype: Genotype,
        drop_path_prob: float = 0.0,
    ) -> None:
        super().__init__()
        self.genotype = genotype
        self._layers = layers
        self.drop_path_prob = drop_path_prob
        self.stem0 = nn.Sequential(
            nn.Conv2d(3, C // 2, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C // 2),
            nn.ReLU(inplace=True),
            nn.Conv2d(C // 2, C, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C),
        )
        self.stem1 = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.Conv2d(C, C, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C),
        )
        # stem0's output (56x56) is cell 0's k-2 input: twice the resolution of stem1's, hence
        # reduction_prev=True (a FactorizedReduce preprocesses it).
        c_out, c_aux = self._build_cells(genotype, C, layers, C, reduction_prev=True)
        self.auxiliary_head = AuxiliaryHeadImageNet(c_aux, num_classes) if auxiliary else None
        self.global_pooling = nn.AvgPool2d(7)
        self.classifier = nn.Linear(c_out, num_classes)

    def _stem(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s0 = self.stem0(x)
        return s0, self.stem1(s0)


def count_params_m(model: nn.Module) -> float:
    """Parameters in millions as the paper counts them (the code's ``count_parameters_in_MB``):
    every parameter whose name does not contain ``auxiliary``. Architecture parameters (a
    supernet's ``mixer``, e.g. DARTS's alphas, which the code does not register) are left out
    too."""
    return (
        sum(
            p.numel()
            for name, p in model.named_parameters()
            if "auxiliary" not in name and not name.startswith("mixer.")
        )
        / 1e6
    )


@torch.no_grad()
def count_macs(model: nn.Module, input_size: tuple[int, int, int] = (3, 224, 224)) -> int:
    """Multiply-adds of one forward pass on a single ``input_size`` image, in eval mode (so the
    auxiliary head does not run): ``out_pixels * c_out * (c_in / groups) * kh * kw`` for every
    conv and ``in * out`` for every linear layer. Pooling, BN, ReLU and additions are not
    counted, as is usual for the mult-adds of mobile-setting tables."""
    total = 0

    def conv_hook(m: nn.Conv2d, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        total += out.numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m: nn.Linear, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        total += out.numel() * m.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        model(torch.zeros(1, *input_size, device=device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return total
