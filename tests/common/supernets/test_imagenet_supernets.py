"""The SPOS ShuffleNetV2 and FairNAS MobileNetV2 supernets: a single path equals the discrete
network of the same choices with copied weights (bit for bit, train and eval mode), without
affine batch norms too (the discrete network's set to 1 and 0); only the chosen blocks compute
and receive gradients; paths and architectures round-trip."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from common.spaces.fairnas_mobilenet import FairNasArch, FairNasNet
from common.spaces.spos_shufflenet import ShuffleNetOneShot, SposArch
from common.supernets import fairnas_mobilenet as fair
from common.supernets import spos_shufflenet as spos

SPACES = {
    # supernet module, discrete class, its name for the blocks, architecture class
    "spos": (spos, spos.SposSupernet, ShuffleNetOneShot, "features", SposArch),
    "fairnas": (fair, fair.FairNasSupernet, FairNasNet, "blocks", FairNasArch),
}
SPOS_PUBLISHED = (2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3)
FAIRNAS_A = (2, 0, 2, 3, 5, 0, 0, 5, 5, 1, 3, 1, 1, 3, 3, 5, 3, 5, 4)


def discrete_copy(space: str, supernet: nn.Module, arch) -> nn.Module:
    """The discrete network of ``arch`` with the supernet path's weights (and BN statistics);
    where the supernet's batch norms have no affine parameters, the network's are 1 and 0."""
    module, _, discrete, blocks, _ = SPACES[space]
    net = discrete(arch, num_classes=10)
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(m.weight), nn.init.zeros_(m.bias)
    state = net.state_dict()
    for key, value in supernet.state_dict().items():
        if key.startswith("mixer"):
            continue
        if key.startswith("layers."):
            _, i, op, rest = key.split(".", 3)
            if op != module.OPS[arch.choices[int(i)]]:
                continue
            key = f"{blocks}.{i}.{rest}"
        state[key] = value.clone()
    net.load_state_dict(state)
    return net


def randomise_bn_statistics(net: nn.Module) -> None:
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5), m.running_var.uniform_(0.5, 2.0)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize(
    "space, choices", [("spos", SPOS_PUBLISHED), ("spos", (3,) * 20), ("fairnas", FAIRNAS_A)]
)
def test_single_path_equals_the_discrete_network(space, choices, affine):
    module, supernet_cls, _, _, arch_cls = SPACES[space]
    arch = arch_cls(choices)
    torch.manual_seed(0)
    supernet = supernet_cls(num_classes=10, affine=affine)
    randomise_bn_statistics(supernet)
    supernet.mixer.set_choice(module.arch_choice(arch))
    net = discrete_copy(space, supernet, arch)
    x = torch.randn(2, 3, 64, 64)
    for mode in (False, True, False):  # running statistics, batch statistics, moved statistics
        supernet.train(mode), net.train(mode)
        torch.manual_seed(1)  # the same dropout mask in train mode
        a = supernet(x)
        torch.manual_seed(1)
        assert torch.equal(a, net(x)), (space, mode)


@pytest.mark.parametrize("space", ["spos", "fairnas"])
def test_a_single_path_computes_and_trains_only_the_chosen_blocks(space):
    module, supernet_cls, _, _, _ = SPACES[space]
    torch.manual_seed(0)
    supernet = supernet_cls(num_classes=10)
    calls: list[tuple[int, str]] = []
    for i, layer in enumerate(supernet.layers):
        for name, op in layer.items():
            op.register_forward_hook(lambda *_, key=(i, name): calls.append(key))
    path = supernet.mixer.sample(random.Random(3))["chain"]
    F.cross_entropy(supernet(torch.randn(2, 3, 32, 32)), torch.tensor([1, 2])).backward()
    assert calls == list(enumerate(path))
    for i, layer in enumerate(supernet.layers):
        for name, op in layer.items():
            grads = [p.grad is not None for p in op.parameters()]
            assert all(grads) if name == path[i] else not any(grads), (i, name)


@pytest.mark.parametrize("space", ["spos", "fairnas"])
def test_the_official_supernet_has_no_affine_batch_norm_and_paths_round_trip(space):
    module, supernet_cls, _, _, arch_cls = SPACES[space]
    supernet = supernet_cls(num_classes=10)
    bns = [m for m in supernet.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert bns and all(m.weight is None and m.bias is None and not m.affine for m in bns)
    assert len(supernet.layers) == supernet.mixer.num_edges and supernet.mixer.ops == module.OPS
    arch = arch_cls.sample(random.Random(0))
    assert module.path_arch(module.arch_path(arch)) == arch
    supernet.mixer.set_choice({"chain": (None, *module.arch_path(arch)[1:])})
    with pytest.raises(RuntimeError, match="has no active block"):
        supernet(torch.randn(1, 3, 32, 32))


def test_fairnas_choice_names_follow_the_space_order():
    assert fair.OPS == ("e3k3", "e3k5", "e3k7", "e6k3", "e6k5", "e6k7")
    assert spos.OPS == ("shuffle3x3", "shuffle5x5", "shuffle7x7", "xception")
