"""The child network of a NAS-RL architecture (Zoph & Le, ICLR 2017, Sect. 3.3 and 4.1).

Each layer is a convolution with batch normalisation and ReLU (Sect. 4.1: "rectified linear
units as non-linearities, batch normalization and skip connections"), order conv -> BN ->
ReLU (the paper does not give the order; the one ENAS's macro space uses). The paper's three
rules for skip connections (Sect. 3.3), as written:

1. a layer reads the depth-concatenation of the layers its anchor point chose; a layer that
   chose none reads the image;
2. the outputs that no layer reads are concatenated and sent to the classifier;
3. inputs of different spatial sizes are zero-padded to the largest before concatenation
   (only strides > 1 make sizes differ). The zeros go half before and half after, the odd
   one after: the paper does not say where.

The classifier is global average pooling and one linear layer (the paper's is not given).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from reproductions.nas_rl.space import NasRlArch


def pad_to(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Zero-pad a ``[n, c, h, w]`` map to ``height x width`` (rule 3)."""
    dh, dw = height - x.shape[2], width - x.shape[3]
    if dh == 0 and dw == 0:
        return x
    return F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))


def concat_padded(maps: list[torch.Tensor]) -> torch.Tensor:
    """Depth-concatenation after padding every map to the largest height and width."""
    height = max(m.shape[2] for m in maps)
    width = max(m.shape[3] for m in maps)
    return torch.cat([pad_to(m, height, width) for m in maps], dim=1)


def conv_out(size: int, kernel: int, stride: int) -> int:
    """Output size of a convolution with padding ``kernel // 2`` ("same" at stride 1)."""
    return (size + 2 * (kernel // 2) - kernel) // stride + 1


class ConvBnRelu(nn.Sequential):
    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        bn_eps: float = 1e-5,
    ):
        padding = (kernel[0] // 2, kernel[1] // 2)
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, eps=bn_eps),
            nn.ReLU(inplace=False),
        )


class NasRlNet(nn.Module):
    """The network of ``arch`` for ``in_channels``-channel images and ``num_classes``;
    ``bn_eps``: the batch norms' epsilon (one of the final stage's grid values)."""

    def __init__(
        self, arch: NasRlArch, in_channels: int = 3, num_classes: int = 10, bn_eps: float = 1e-5
    ) -> None:
        super().__init__()
        self.arch = arch
        channels: list[int] = []
        convs = []
        for layer, reads in zip(arch.layers, arch.inputs, strict=True):
            c_in = sum(channels[j] for j in reads) if reads else in_channels
            kernel, stride = (layer.height, layer.width), (layer.stride_h, layer.stride_w)
            convs.append(ConvBnRelu(c_in, layer.filters, kernel, stride, bn_eps))
            channels.append(layer.filters)
        self.layers = nn.ModuleList(convs)
        self.out_channels = sum(channels[i] for i in arch.unused())
        self.classifier = nn.Linear(self.out_channels, num_classes)

    def features(self, image: torch.Tensor) -> torch.Tensor:
        """The concatenated unused outputs (rule 2), before pooling."""
        outs: list[torch.Tensor] = []
        for conv, reads in zip(self.layers, self.arch.inputs, strict=True):
            x = concat_padded([outs[j] for j in reads]) if reads else image
            outs.append(conv(x))
        return concat_padded([outs[i] for i in self.arch.unused()])

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(image).mean(dim=(2, 3)))


def output_sizes(arch: NasRlArch, image_size: int) -> list[tuple[int, int]]:
    """Spatial size of every layer's output, by the padding rule (for tests and budgets)."""
    sizes: list[tuple[int, int]] = []
    for layer, reads in zip(arch.layers, arch.inputs, strict=True):
        if reads:
            h = max(sizes[j][0] for j in reads)
            w = max(sizes[j][1] for j in reads)
        else:
            h = w = image_size
        sizes.append(
            (conv_out(h, layer.height, layer.stride_h), conv_out(w, layer.width, layer.stride_w))
        )
    return sizes
