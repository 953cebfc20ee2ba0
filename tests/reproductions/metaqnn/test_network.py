"""MetaQNN's networks: the Caffe generator's layers and dropout, the published parameter counts."""

import math

import pytest
import timm
import torch

import reproductions  # noqa: F401  (registers metaqnn_cifar10)
from reproductions.metaqnn.network import MetaQNNNet, dropout_rates, paper_param_count
from reproductions.metaqnn.space import Arch

# Table A2: the five CIFAR-10 networks and their printed parameter counts (millions).
TABLE_A2 = [
    ("[C(512,5,1), C(256,3,1), C(256,5,1), C(256,3,1), P(5,3), C(512,3,1), C(512,5,1), P(2,2), SM(10)]", 11.26),
    ("[C(128,1,1), C(512,3,1), C(64,1,1), C(128,3,1), P(2,2), C(256,3,1), P(2,2), C(512,3,1), P(3,2), SM(10)]", 2.2),
    ("[C(128,3,1), C(128,1,1), C(512,5,1), P(2,2), C(128,3,1), P(2,2), C(64,3,1), C(64,5,1), SM(10)]", 2.46),
    ("[C(256,3,1), C(256,3,1), P(5,3), C(256,1,1), C(128,3,1), P(2,2), C(128,3,1), SM(10)]", 1.13),
    ("[C(64,3,1), C(128,3,1), P(5,3), C(256,3,1), P(3,2), FC(512), FC(128), SM(10)]", 1.62),
]  # fmt: skip


@pytest.mark.parametrize("arch,published", TABLE_A2)
def test_the_papers_counting_rule_gives_every_table_a2_count(arch, published):
    digits = 1 if published == 2.2 else 2
    assert round(paper_param_count(arch) / 1e6, digits) == published


def test_top_network_has_the_caffe_parameter_count():
    model = timm.create_model("metaqnn_cifar10")
    # by hand: biased convs 3->512 k5, 512->256 k3, 256->256 k5, 256->256 k3, 256->512 k3,
    # 512->512 k5, then 512 x 5 x 5 -> 10 (32 -> P(5,3) -> 10 -> P(2,2) -> 5)
    convs = [(3, 512, 5), (512, 256, 3), (256, 256, 5), (256, 256, 3), (256, 512, 3), (512, 512, 5)]
    by_hand = sum(i * o * k * k + o for i, o, k in convs) + 512 * 5 * 5 * 10 + 10
    assert sum(p.numel() for p in model.parameters()) == by_hand == 11_309_834
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert paper_param_count(TABLE_A2[0][0]) == 11_261_440  # the paper's 11.26M: no biases, 4x4
    with torch.no_grad():
        assert model.eval()(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_dropout_follows_the_released_prototxts():
    # bowenbaker/metaqnn @a25847f static/prototxt/cifar10_0, _1, _2: dropout ratios in order
    cases = {
        "[C(128,5,1), C(512,3,1), P(2,2), C(128,1,1), C(128,5,1), P(3,2), C(512,3,1), SM(10)]": [
            0.125, 0.25, 0.375],
        "[C(256,3,1), C(128,1,1), C(128,3,1), C(128,3,1), P(5,3), C(128,3,1), SM(10)]": [
            1 / 6, 2 / 6, 3 / 6],
        TABLE_A2[4][0]: [0.1, 0.2, 0.3, 0.4],
    }  # fmt: skip
    for arch, rates in cases.items():
        got = [r for r in dropout_rates(Arch.parse(arch)) if r is not None]
        assert got == pytest.approx(rates), arch


def test_weights_use_caffes_xavier_fan_in_filler():
    net = MetaQNNNet("[C(64,3,1), GAP, SM(10)]", in_channels=1, image_size=8)
    conv = net.layers[0]
    bound = math.sqrt(3 / (1 * 3 * 3))
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.9 * bound
    assert float(conv.bias.detach().abs().sum()) == 0.0
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 10)
