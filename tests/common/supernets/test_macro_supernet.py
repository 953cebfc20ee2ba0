"""The NAS-Bench-Macro supernet: a single path equals the benchmark network with copied
weights (bit for bit, train and eval mode) and computes and trains only the chosen ops; the
softmax relaxation mixes every op as documented."""

from __future__ import annotations

import random
from functools import partial

import pytest
import torch
from torch.nn import functional as F

from common.spaces.nb_macro.arch import OPS, MacroArch
from common.spaces.nb_macro.model import MacroNetwork
from common.supernets.macro import MacroSupernet, arch_choice, arch_mask, mask_arch
from common.supernets.mixers import MaskMixer, SinglePathMixer, SoftmaxMixer

SMALL = dict(init_channels=4, head_channels=16)  # the benchmark's shape at a tenth of its width


def discrete_copy(supernet: MacroSupernet, arch: MacroArch) -> MacroNetwork:
    net = MacroNetwork(arch, **SMALL)
    for name in ("stem", "out", "classifier"):
        getattr(net, name).load_state_dict(getattr(supernet, name).state_dict())
    for layer, super_layer, op in zip(net.features, supernet.layers, arch.ops, strict=True):
        layer.load_state_dict(super_layer[op].state_dict())
    return net


@pytest.mark.parametrize("mixer", [SinglePathMixer, MaskMixer])
@pytest.mark.parametrize("code", ["22212220", "00000000", "01201021", "10020112"])
def test_single_path_equals_the_benchmark_network(mixer, code):
    arch = MacroArch.parse(code)
    torch.manual_seed(0)
    supernet = MacroSupernet(10, mixer=mixer, **SMALL)
    net = discrete_copy(supernet, arch)
    supernet.mixer.set_mask(arch_mask(arch))
    x = torch.randn(3, 3, 16, 16)
    for mode in (True, False, True):  # batch statistics, running statistics, batch again
        supernet.train(mode), net.train(mode)
        assert torch.equal(supernet(x), net(x))
    for layer, super_layer, op in zip(net.features, supernet.layers, arch.ops, strict=True):
        chosen = super_layer[op].state_dict()  # running statistics moved alike
        assert all(torch.equal(v, chosen[k]) for k, v in layer.state_dict().items())


def test_a_single_path_computes_and_trains_only_the_chosen_ops():
    torch.manual_seed(0)
    supernet = MacroSupernet(10, mixer=SinglePathMixer, **SMALL)
    calls: list[tuple[int, str]] = []
    for i, layer in enumerate(supernet.layers):
        for name, op in layer.items():
            op.register_forward_hook(lambda *_, key=(i, name): calls.append(key))
    supernet.mixer.sample(random.Random(3))
    arch = mask_arch(supernet.mixer)
    F.cross_entropy(supernet(torch.randn(2, 3, 16, 16)), torch.tensor([1, 2])).backward()
    assert calls == list(enumerate(arch.ops))
    for i, layer in enumerate(supernet.layers):
        for name, op in layer.items():
            grads = [p.grad is not None for p in op.parameters()]
            assert all(grads) if name == arch.ops[i] else not any(grads), (i, name)


def test_the_chosen_path_round_trips_and_a_chain_cannot_skip_a_layer():
    supernet = MacroSupernet(10, mixer=SinglePathMixer, **SMALL)
    arch = MacroArch.parse("01201021")
    supernet.mixer.set_choice(arch_choice(arch))
    assert mask_arch(supernet.mixer) == arch
    assert supernet.mixer.state("chain") == arch_mask(arch)["chain"]
    supernet.mixer.set_choice({"chain": (None, *arch.ops[1:])})
    with pytest.raises(RuntimeError, match="layer 0 has no active op"):
        supernet(torch.randn(1, 3, 8, 8))


def test_softmax_mixer_weights_each_op_by_the_softmax_of_its_alphas():
    torch.manual_seed(0)
    supernet = MacroSupernet(10, mixer=SoftmaxMixer, **SMALL).eval()
    with torch.no_grad():
        supernet.mixer.alphas["chain"].normal_()
    w = torch.softmax(supernet.mixer.alphas["chain"], dim=-1)
    x = torch.randn(2, 3, 16, 16)
    h = supernet.stem(x)
    for i, layer in enumerate(supernet.layers):
        h = sum(w[i, k] * layer[op](h) for k, op in enumerate(OPS))
    expected = supernet.classifier(supernet.out(h).flatten(1))
    torch.testing.assert_close(supernet(x), expected)
    assert supernet.genotype() == MacroArch(tuple(w.argmax(dim=-1).tolist()))
    assert supernet.arch_parameters() == [supernet.mixer.alphas["chain"]]
    assert len(list(supernet.weight_parameters())) == len(list(supernet.parameters())) - 1


def test_the_mixer_never_shifts_the_weights_initialisation():
    torch.manual_seed(7)
    soft = MacroSupernet(10, mixer=SoftmaxMixer, **SMALL)
    torch.manual_seed(7)
    single = MacroSupernet(10, mixer=partial(SinglePathMixer, choices=OPS), **SMALL)
    weights = dict(single.named_parameters())
    for name, p in soft.named_parameters():
        if not name.startswith("mixer."):
            assert torch.equal(p, weights[name]), name
    with pytest.raises(TypeError, match="needs a SoftmaxMixer"):
        single.genotype()
