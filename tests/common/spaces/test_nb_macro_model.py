"""The NAS-Bench-Macro network is the benchmark's: the parameter count of every one of the
6,561 codes equals the file's ``params``, multiply-adds equal its ``flops`` (a sample), and
codes with one canonical form compute the same function."""

import json
import random

import pytest
import torch

from common.spaces.nb_macro.arch import MacroArch, all_archs
from common.spaces.nb_macro.model import MacroNetwork, macs, num_params


@pytest.fixture(scope="module")
def table(shared_file):
    return json.loads(shared_file("nas-bench-macro_cifar10.json").read_text())


def test_params_of_every_code_equal_the_benchmark(table):
    wrong = []
    for arch in all_archs():
        with torch.device("meta"):  # shapes only: no memory, no initialisation work
            net = MacroNetwork(arch)
        if num_params(net) != table[str(arch)]["params"]:
            wrong.append(str(arch))
    assert not wrong, f"{len(wrong)} codes differ, e.g. {wrong[:5]}"


def test_macs_equal_the_benchmark_flops(table):
    archs = random.Random(0).sample(list(all_archs()), 60)
    archs += [MacroArch.parse(c) for c in ("00000000", "22222222", "22212220", "01001000")]
    for arch in archs:
        with torch.device("meta"):
            net = MacroNetwork(arch)
        assert macs(net) == table[str(arch)]["flops"], str(arch)


def test_extremes_of_the_benchmark():
    # data README / research notes: params 0.39-2.93M; all-identity 387,882 by hand:
    # stem 864+64, three strided 1x1 id convs + BN 2,176+8,448+33,280, head 327,680+2,560,
    # classifier 12,810
    with torch.device("meta"):
        assert num_params(MacroNetwork(MacroArch.parse("00000000"))) == 387_882


def test_official_module_names_and_forward():
    torch.manual_seed(0)
    net = MacroNetwork(MacroArch.parse("01200012"))
    keys = set(net.state_dict())
    # train/model.py names: features.<i>.downsample (strided id), features.<i>.conv (blocks)
    assert "features.0.downsample.0.weight" in keys and "features.1.conv.3.weight" in keys
    assert "out.0.weight" in keys and "classifier.bias" in keys
    dw1, dw2 = net.features[1].conv[3], net.features[2].conv[3]  # the depthwise convs
    assert dw1.groups == 64 * 3 and dw1.kernel_size == (3, 3) and dw1.stride == (1, 1)
    assert dw2.groups == 64 * 6 and dw2.kernel_size == (5, 5) and dw2.stride == (2, 2)
    assert net.features[1].use_shortcut and not net.features[2].use_shortcut
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("code", ["10001002", "02021102", "20201012"])
def test_codes_of_one_class_compute_the_same_function(code):
    arch = MacroArch.parse(code)
    canon = arch.canonical()
    torch.manual_seed(0)
    net, ref = MacroNetwork(arch).eval(), MacroNetwork(canon).eval()
    # give the blocks of each stage the canonical network's weights in the same order
    ref_blocks = [m for m in ref.features if sum(p.numel() for p in m.parameters())]
    net_blocks = [m for m in net.features if sum(p.numel() for p in m.parameters())]
    assert len(ref_blocks) == len(net_blocks)
    for mine, theirs in zip(net_blocks, ref_blocks, strict=True):
        mine.load_state_dict(theirs.state_dict())
    for name in ("stem", "out", "classifier"):
        getattr(net, name).load_state_dict(getattr(ref, name).state_dict())
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(net(x), ref(x))
