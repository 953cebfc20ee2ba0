"""The network of a MetaQNN path, as the authors' Caffe generator builds it (Baker et al., ICLR
2017, Sect. 5; bowenbaker/metaqnn @a25847f libs/caffe/string_to_model.py and
libs/grammar/state_string_utils.py):

- C(d,f,1): convolution with bias, SAME padding f // 2 (``conv_padding = 'SAME'``), ReLU; no
  batch norm (``batch_norm = False``);
- P(f,l): max pooling, Caffe's ceil rounding (``ceil_mode=True``, no padding);
- FC(d): fully connected with bias on the flattened input, ReLU;
- GAP: 1x1 convolution to the classes, ReLU, average pooling over the whole map;
- SM(k): the classifier, fully connected to k logits (the softmax is in the loss);
- dropout (Sect. 5, "after every two layers"; ``add_drop_out_states``): after the 2nd, 4th, ...
  layer and after every FC, never after GAP; with n = (L - #GAP - #FC) // 2 + #FC where L
  counts the layers including SM, the i-th dropout has p = i / 2n and at most n are added;
- weights: Caffe's default ``xavier`` filler, U(-a, a) with a = sqrt(3 / fan_in); biases 0.

The final training of the published CIFAR-10 network keeps "all other parameters unchanged"
(Sect. 5), so the same builder serves the search's children and the retrain.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from reproductions.metaqnn.space import Arch, pooled_size


def dropout_rates(arch: Arch) -> list[float | None]:
    """The dropout probability after each layer of ``arch`` (None: no dropout there)."""
    n_fc = sum(layer.kind == "FC" for layer in arch)
    n_gap = sum(layer.kind == "GAP" for layer in arch)
    n = (len(arch) - n_gap - n_fc) // 2 + n_fc
    rates: list[float | None] = []
    k = 1
    for i, layer in enumerate(arch):
        wanted = (i % 2 == 1 or layer.kind == "FC") and layer.kind not in ("SM", "GAP")
        if wanted and k <= n:
            rates.append(k / (2 * n))
            k += 1
        else:
            rates.append(None)
    return rates


def caffe_xavier_(module: nn.Module) -> None:
    """Caffe's ``xavier`` filler (variance_norm FAN_IN) on conv and linear weights, zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            fan_in = m.weight[0].numel()
            bound = math.sqrt(3.0 / fan_in)
            nn.init.uniform_(m.weight, -bound, bound)
            nn.init.zeros_(m.bias)


class MetaQNNNet(nn.Module):
    """The network of ``arch`` for ``in_channels`` x ``image_size``^2 inputs.

    ``dropout=False`` leaves the dropout layers out (the parameter count does not change).
    """

    def __init__(
        self,
        arch: Arch | str,
        in_channels: int = 3,
        image_size: int = 32,
        num_classes: int = 10,
        dropout: bool = True,
    ) -> None:
        super().__init__()
        arch = Arch.parse(arch) if isinstance(arch, str) else arch
        self.arch = arch
        layers: list[nn.Module] = []
        channels, size, flat = in_channels, image_size, None
        for layer, rate in zip(arch, dropout_rates(arch), strict=True):
            if layer.kind == "C":
                layers += [
                    nn.Conv2d(channels, layer.width, layer.size, padding=layer.size // 2),
                    nn.ReLU(inplace=True),
                ]
                channels = layer.width
            elif layer.kind == "P":
                layers.append(nn.MaxPool2d(layer.size, layer.stride, ceil_mode=True))
                size = pooled_size(size, layer.size, layer.stride)
            elif layer.kind == "GAP":
                layers += [
                    nn.Conv2d(channels, num_classes, 1),
                    nn.ReLU(inplace=True),
                    nn.AdaptiveAvgPool2d(1),
                ]
                channels, size = num_classes, 1
            else:  # FC or SM: fully connected on the flattened input
                if flat is None:
                    layers.append(nn.Flatten())
                    flat = channels * size * size
                width = num_classes if layer.kind == "SM" else layer.width
                layers.append(nn.Linear(flat, width))
                if layer.kind == "FC":
                    layers.append(nn.ReLU(inplace=True))
                flat = width
            if rate is not None and dropout:
                layers.append(nn.Dropout(rate))
        self.layers = nn.Sequential(*layers)
        self.num_classes = num_classes
        caffe_xavier_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def paper_param_count(
    arch: Arch | str, in_channels: int = 3, image_size: int = 32, num_classes: int = 10
) -> int:
    """The parameter count as the paper's appendix tables print it: weights only (no biases),
    with the map after P(f,l) taken as floor((n - f + 1) / l). This rule reproduces all five
    CIFAR-10 counts of Table A2 (11.26, 2.2, 2.46, 1.13, 1.62M) to the printed digit; the
    network Caffe trains has ceil((n - f) / l) + 1 (the top network's last map is 5x5 there,
    4x4 in the count), so ``MetaQNNNet`` has more parameters than the table says."""
    arch = Arch.parse(arch) if isinstance(arch, str) else arch
    channels, size, flat, total = in_channels, image_size, None, 0
    for layer in arch:
        if layer.kind == "C":
            total += channels * layer.size**2 * layer.width
            channels = layer.width
        elif layer.kind == "P":
            size = (size - layer.size + 1) // layer.stride
        elif layer.kind == "GAP":
            total += channels * num_classes
            channels, size = num_classes, 1
        else:
            fan_in = channels * size * size if flat is None else flat
            flat = layer.width
            total += fan_in * layer.width
    return total
