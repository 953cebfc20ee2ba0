"""Edge mixers on both skeletons: a single path through the supernet equals the discrete
network with copied weights and computes nothing else; masks mix as documented; the mixer
never shifts the weights' initialisation."""

from __future__ import annotations

import random
from functools import partial

import pytest
import torch
from torch import nn

from common.spaces.darts.genotype import Genotype
from common.spaces.darts.model import NetworkCIFAR
from common.spaces.nb201.arch import EDGES, OPS, Nb201Arch
from common.spaces.nb201.model import Nb201Network
from common.spaces.nb201.ops import ResNetBasicBlock
from common.supernets.darts import DartsSupernet, edges, genotype_mask
from common.supernets.mixers import MaskMixer, SinglePathMixer, SoftmaxMixer
from common.supernets.nb201 import Nb201Supernet, arch_mask

ARCH = Nb201Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
)
GENOTYPE = Genotype(
    normal=[
        ("sep_conv_3x3", 0), ("skip_connect", 1),
        ("dil_conv_3x3", 0), ("sep_conv_5x5", 2),
        ("avg_pool_3x3", 1), ("max_pool_3x3", 3),
        ("skip_connect", 2), ("dil_conv_5x5", 4),
    ],
    normal_concat=[2, 3, 4, 5],
    reduce=[
        ("max_pool_3x3", 0), ("skip_connect", 1),
        ("sep_conv_3x3", 1), ("skip_connect", 2),
        ("avg_pool_3x3", 0), ("dil_conv_3x3", 2),
        ("sep_conv_5x5", 3), ("skip_connect", 4),
    ],
    reduce_concat=[2, 3, 4, 5],
)  # fmt: skip


def nb201_pair(mixer=MaskMixer):
    torch.manual_seed(0)
    supernet = Nb201Supernet(10, mixer=mixer, channels=4, cells_per_stage=2)
    net = Nb201Network(ARCH, 10, channels=4, cells_per_stage=2)
    net.stem.load_state_dict(supernet.stem.state_dict())
    for layer, super_layer in zip(net.cells, supernet.cells, strict=True):
        if isinstance(layer, ResNetBasicBlock):
            layer.load_state_dict(super_layer.state_dict())
            continue
        for e, ((node, inp), op) in enumerate(zip(EDGES, ARCH.ops, strict=True)):
            layer.edges[f"{node}<-{inp}"].load_state_dict(super_layer.edges[e][op].state_dict())
    net.lastact.load_state_dict(supernet.lastact.state_dict())
    net.classifier.load_state_dict(supernet.classifier.state_dict())
    return supernet, net


@pytest.mark.parametrize("mixer", [MaskMixer, SinglePathMixer])
def test_nb201_single_path_equals_the_benchmark_network(mixer):
    supernet, net = nb201_pair(mixer)
    supernet.mixer.set_mask(arch_mask(ARCH))
    x = torch.randn(3, 3, 16, 16)
    for mode in (True, False):  # batch statistics, then running statistics
        supernet.train(mode), net.train(mode)
        assert torch.equal(supernet(x), net(x))


def test_darts_single_path_equals_the_discrete_network():
    torch.manual_seed(0)
    kw = dict(C=4, num_classes=10, layers=4, affine=True, pool_bn=False)
    supernet = DartsSupernet(**kw, mixer=MaskMixer)
    net = NetworkCIFAR(C=4, num_classes=10, layers=4, auxiliary=False, genotype=GENOTYPE)
    net.stem.load_state_dict(supernet.stem.state_dict())
    index = {edge: e for e, edge in enumerate(edges())}
    for cell, super_cell in zip(net.cells, supernet.cells, strict=True):
        cell.preprocess0.load_state_dict(super_cell.preprocess0.state_dict())
        cell.preprocess1.load_state_dict(super_cell.preprocess1.state_dict())
        entries = GENOTYPE.reduce if cell.reduction else GENOTYPE.normal
        for k, (op, inp) in enumerate(entries):
            state = super_cell.edges[index[(k // 2, inp)]][op].state_dict()
            cell._ops[k].load_state_dict(state)
    net.classifier.load_state_dict(supernet.classifier.state_dict())
    supernet.mixer.set_mask(genotype_mask(GENOTYPE))
    x = torch.randn(2, 3, 16, 16)
    for mode in (True, False):
        supernet.train(mode), net.train(mode)
        torch.testing.assert_close(supernet(x), net(x), rtol=0, atol=0)


def test_a_single_path_computes_only_the_chosen_ops():
    torch.manual_seed(0)
    supernet = Nb201Supernet(10, mixer=SinglePathMixer, channels=2, cells_per_stage=1)
    calls: list[str] = []
    for cell in supernet.cells:
        if not isinstance(cell, ResNetBasicBlock):
            for edge in cell.edges:
                for name, op in edge.items():
                    op.register_forward_hook(lambda *_, name=name: calls.append(name))
    choice = supernet.mixer.sample(random.Random(3))
    supernet(torch.randn(1, 3, 8, 8))
    assert sorted(calls) == sorted(choice["cell"] * 3)  # 3 cells, 6 edges each, one op each


def test_single_path_sampling_is_uniform_and_validated():
    mixer = SinglePathMixer(OPS, num_edges=6, cell_types=("cell",), choices=OPS[1:])
    rng = random.Random(0)
    counts = {op: 0 for op in OPS}
    for _ in range(2000):
        for op in mixer.sample(rng)["cell"]:
            counts[op] += 1
    assert counts["none"] == 0
    assert all(abs(counts[op] / 12000 - 0.25) < 0.02 for op in OPS[1:])
    with pytest.raises(ValueError, match="at most one op"):
        mixer.set_mask({"cell": (frozenset(OPS[1:3]),) * 6})
    mixer.set_choice({"cell": (None, "skip_connect", None, None, None, "nor_conv_1x1")})
    assert mixer.choice()["cell"][:2] == (None, "skip_connect")


@pytest.mark.parametrize("reduction", ["sum", "mean", "scaled_sum"])
def test_an_edge_mixes_its_active_ops_as_documented(reduction):
    torch.manual_seed(0)
    mixer = MaskMixer(OPS, num_edges=1, cell_types=("cell",), reduction=reduction)
    ops = nn.ModuleDict({"skip_connect": nn.Identity(), "avg_pool_3x3": nn.AvgPool2d(3, 1, 1)})
    x = torch.randn(1, 2, 5, 5)
    both = (frozenset({"skip_connect", "avg_pool_3x3"}),)
    total = x + ops["avg_pool_3x3"](x)
    expected = {"sum": total, "mean": total / 2, "scaled_sum": 0.5 * x + 0.5 * (total - x)}
    torch.testing.assert_close(mixer.mix(ops, x, 0, both), expected[reduction])
    assert mixer.mix(ops, x, 0, (frozenset(),)) is None
    with pytest.raises(ValueError, match="unknown ops"):
        mixer.set_mask({"cell": (frozenset({"conv_9x9"}),)})


def test_softmax_mixer_weights_each_op_by_the_softmax_of_its_alphas():
    torch.manual_seed(0)
    net = Nb201Supernet(10, mixer=SoftmaxMixer, channels=2, cells_per_stage=1)
    with torch.no_grad():
        net.mixer.alphas["cell"].normal_()
    cell, x = net.cells[0].eval(), torch.randn(1, 2, 6, 6)
    w = torch.softmax(net.mixer.alphas["cell"], dim=-1)
    n1 = sum(w[0, k] * cell.edges[0][op](x) for k, op in enumerate(OPS))
    n2 = sum(
        w[e, k] * cell.edges[e][op](h) for e, h in ((1, x), (2, n1)) for k, op in enumerate(OPS)
    )
    n3 = sum(
        w[e, k] * cell.edges[e][op](h)
        for e, h in ((3, x), (4, n1), (5, n2))
        for k, op in enumerate(OPS)
    )
    torch.testing.assert_close(cell(x, net.mixer, w), n3)
    assert net.genotype() == Nb201Arch.from_indices(w.argmax(dim=-1).tolist())


@pytest.mark.parametrize(
    "build",
    [
        lambda mixer: Nb201Supernet(10, mixer=mixer, channels=2, cells_per_stage=1),
        lambda mixer: DartsSupernet(C=2, num_classes=10, layers=3, mixer=mixer),
    ],
)
def test_the_mixer_never_shifts_the_weights_initialisation(build):
    torch.manual_seed(7)
    soft = build(SoftmaxMixer)
    torch.manual_seed(7)
    masked = build(partial(MaskMixer, reduction="mean"))
    weights = dict(masked.named_parameters())
    for name, p in soft.named_parameters():
        if not name.startswith("mixer."):
            assert torch.equal(p, weights[name]), name
    assert soft.arch_parameters() and not masked.arch_parameters()
