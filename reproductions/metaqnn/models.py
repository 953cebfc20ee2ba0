"""MetaQNN's top CIFAR-10 network as a timm model (Baker, Gupta, Naik & Raskar, ICLR 2017,
Table A2 row 1; Tables 3-4: 6.92% test error, "11.26" million parameters).

``timm.create_model("metaqnn_cifar10")`` after ``import reproductions`` builds
[C(512,5,1), C(256,3,1), C(256,5,1), C(256,3,1), P(5,3), C(512,3,1), C(512,5,1), P(2,2), SM(10)]
as the authors' Caffe generator does (``network.py``: biased SAME convolutions with ReLU, no
batch norm, ceil-mode max pooling, dropout 1/8, 2/8, 3/8, 4/8 after layers 2, 4, 6, 8, Caffe
xavier init). No weights were released: ``pretrained=True`` is an error.

Its parameter count: 11,309,834 (11.31M), not 11.26M. The difference is the last feature map,
5x5 in the network Caffe builds on a 32x32 input (pooling ceil((n - f) / s) + 1: 32 -> 10 -> 5)
and 4x4 in the paper's count, which takes the size after P(f,l) as floor((n - f + 1) / l)
(32 -> 9 -> 4) and reads 11,261,440 without biases (11,263,754 with): that rule gives all five
CIFAR-10 counts of Table A2 to the printed digit (``network.paper_param_count``; tested).
"""

from __future__ import annotations

from typing import Any

from timm.models import generate_default_cfgs, register_model
from torch import nn

from common.spaces.published import Provenance, create_with_cfg, provenance_cfg
from reproductions.metaqnn.network import MetaQNNNet
from reproductions.metaqnn.space import Arch

_PAPER = (
    "Baker, Gupta, Naik & Raskar. Designing Neural Network Architectures using Reinforcement"
    " Learning. ICLR 2017"
)
_URL = "https://github.com/bowenbaker/metaqnn"

MODELS: dict[str, Arch] = {
    "metaqnn_cifar10": Arch.parse(
        "[C(512,5,1), C(256,3,1), C(256,5,1), C(256,3,1), P(5,3), C(512,3,1), C(512,5,1),"
        " P(2,2), SM(10)]"
    ),
}

PROVENANCE: dict[str, dict[str, str]] = {
    "metaqnn_cifar10": {
        **Provenance(
            paper=_PAPER,
            paper_id="arXiv:1611.02167",
            origin=(
                "Table A2 row 1 of the paper (static/baker_et_al_reinforcement_networks_iclr_final"
                ".pdf in bowenbaker/metaqnn @a25847f); layers as libs/caffe/string_to_model.py"
            ),
            origin_url=_URL,
            table="Table A2 / Tables 3-4: 6.92% CIFAR-10 test error, 11.26M params",
            notes=(
                "11.31M parameters as Caffe builds it (5x5 last map); the paper's 11.26M counts"
                " a 4x4 map (floor((n-f+1)/l) after pooling). Final training: SGD momentum 0.9,"
                " lr 0.025/0.0125/1e-4/1e-5 for 40/40/160/60 epochs (Sect. 5)."
            ),
        ).as_dict(),
        "network": "MetaQNNNet (reproductions/metaqnn/network.py), 32x32, no BN",
        "published_size": "11.26M params (Table A2)",
    }
}

default_cfgs = generate_default_cfgs(
    {
        "metaqnn_cifar10": {
            "num_classes": 10,
            "input_size": (3, 32, 32),
            "first_conv": "layers.0",
            "classifier": "layers.19",
            **provenance_cfg(PROVENANCE["metaqnn_cifar10"], f"MetaQNN {MODELS['metaqnn_cifar10']}"),
        }
    }
)


class _TimmMetaQNN(MetaQNNNet):
    """``MetaQNNNet`` with the keyword arguments timm passes (``num_classes``, ``in_chans``)."""

    def __init__(self, arch: Arch, num_classes: int = 10, in_chans: int = 3, **kwargs: Any):
        super().__init__(arch, in_channels=in_chans, num_classes=num_classes, **kwargs)


@register_model
def metaqnn_cifar10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """MetaQNN's top CIFAR-10 network (Table A2 row 1): 6.92% test error, 11.26M params."""
    return create_with_cfg(
        _TimmMetaQNN,
        "metaqnn_cifar10",
        pretrained,
        PROVENANCE["metaqnn_cifar10"],
        arch=MODELS["metaqnn_cifar10"],
        **kwargs,
    )


__all__ = ["metaqnn_cifar10"]
