"""NB-201 network: parameter counts against the benchmark table, shapes, cell semantics."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from common.errors import NasReproError
from common.spaces.nb201.arch import EDGES, OPS, Nb201Arch
from common.spaces.nb201.model import Nb201Cell, Nb201Network, count_params, count_params_m
from common.spaces.nb201.ops import CELL_OPS, AvgPool3x3, ReLUConvBN, Zero, make_op

REPO = Path(__file__).resolve().parents[3]
DATA = REPO.parent / "shared" / "data"
TABLE = DATA / "nb201.csv.gz"

MIXED = Nb201Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
)
ALL_SKIP = Nb201Arch(("skip_connect",) * 6)
ALL_NONE = Nb201Arch(("none",) * 6)


def real_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.fixture(scope="module")
def nb201_table():
    if not TABLE.exists():
        pytest.skip(f"{TABLE} not found (shared data folder absent)")
    pd = pytest.importorskip("pandas")
    sums = dict(
        reversed(line.split()) for line in (DATA / "SHA256SUMS").read_text().splitlines() if line
    )
    expected = sums.get(TABLE.name) or sums.get(f"*{TABLE.name}")
    assert expected == hashlib.sha256(TABLE.read_bytes()).hexdigest(), "nb201.csv.gz changed"
    return pd.read_csv(TABLE)


@pytest.mark.parametrize(
    ("column", "num_classes"),
    [("params_m_cifar10", 10), ("params_m_cifar100", 100), ("params_m_imagenet16", 120)],
)
def test_param_count_matches_table_for_all_archs(nb201_table, column: str, num_classes: int):
    archs = [Nb201Arch.parse(s) for s in nb201_table["arch"]]
    assert len(archs) == 15_625
    # The count depends on the cell only through (#1x1, #3x3): build one real net per signature.
    real: dict[tuple[int, int], int] = {}
    for arch in archs:
        sig = (arch.ops.count("nor_conv_1x1"), arch.ops.count("nor_conv_3x3"))
        if sig not in real:
            real[sig] = real_params(Nb201Network(arch, num_classes))
            assert count_params(arch, num_classes) == real[sig], (arch, sig)
    assert len(real) == 28  # all n1 + n3 <= 6
    for arch, table_m in zip(archs, nb201_table[column], strict=True):
        sig = (arch.ops.count("nor_conv_1x1"), arch.ops.count("nor_conv_3x3"))
        # The table gives millions at 6 decimals, i.e. the exact integer count.
        assert round(table_m * 1e6) == real[sig], (str(arch), table_m)
        assert round(count_params_m(arch, num_classes), 6) == pytest.approx(table_m, abs=1e-9)


def test_count_params_matches_real_net_for_other_sizes():
    for arch in (MIXED, ALL_SKIP, Nb201Arch(("nor_conv_1x1",) * 6)):
        net = Nb201Network(arch, 7, in_channels=1, channels=8, cells_per_stage=2)
        assert count_params(arch, 7, 1, 8, 2) == real_params(net)
        assert count_params_m(arch, 7, 1, 8, 2) == real_params(net) / 1e6


@pytest.mark.parametrize(
    ("in_channels", "size", "num_classes", "channels", "cells"),
    [(3, 32, 10, 16, 5), (3, 16, 120, 16, 5), (1, 8, 10, 8, 1)],
)
def test_forward_shapes(in_channels: int, size: int, num_classes: int, channels: int, cells: int):
    net = Nb201Network(MIXED, num_classes, in_channels, channels, cells)
    x = torch.randn(2, in_channels, size, size)
    assert net(x).shape == (2, num_classes)
    features = net.cells(net.stem(x))
    assert features.shape == (2, 4 * channels, (size + 3) // 4, (size + 3) // 4)


def test_ops_registry_matches_arch_ops():
    assert tuple(CELL_OPS) == OPS
    with pytest.raises(NasReproError, match="unknown NB-201 op 'sep_conv_3x3'"):
        make_op("sep_conv_3x3", 4)
    conv = make_op("nor_conv_3x3", 4)
    assert isinstance(conv.op[0], nn.ReLU) and conv.op[1].bias is None
    assert conv.op[2].affine and conv.op[2].track_running_stats


def _randomize_bn(module: nn.Module) -> None:
    """Non-zero BN shifts and statistics, so that a cut edge cannot look zero by accident."""
    gen = torch.Generator().manual_seed(0)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = torch.rand(m.num_features, generator=gen) + 0.5
            m.bias.data = torch.randn(m.num_features, generator=gen)
            m.running_mean = torch.randn(m.num_features, generator=gen)
            m.running_var = torch.rand(m.num_features, generator=gen) + 0.5


def test_all_none_cell_outputs_zero_and_cuts_the_network():
    cell = Nb201Cell(ALL_NONE, 4)
    assert torch.equal(cell(torch.randn(2, 4, 5, 5)), torch.zeros(2, 4, 5, 5))
    net = Nb201Network(ALL_NONE, 10, channels=8, cells_per_stage=1)
    _randomize_bn(net)
    for train in (True, False):
        net.train(train)
        x = torch.randn(3, 3, 16, 16, requires_grad=True)
        out = net(x)
        assert torch.allclose(out, net(torch.randn(3, 3, 16, 16)))
        out.sum().backward()
        assert torch.equal(x.grad, torch.zeros_like(x))


def test_cell_with_every_path_through_none_ignores_its_input():
    # Node 1 = 0; node 2 = conv(node 1); node 3 = skip(node 1) + 1x1(node 2): all paths cut.
    arch = Nb201Arch.parse(
        "|none~0|+|none~0|nor_conv_3x3~1|+|none~0|skip_connect~1|nor_conv_1x1~2|"
    )
    cell = Nb201Cell(arch, 4).eval()
    _randomize_bn(cell)
    out = cell(torch.randn(2, 4, 6, 6))
    assert out.abs().sum() > 0  # BN shifts make it non-zero, but constant
    assert torch.equal(out, cell(torch.randn(2, 4, 6, 6)))


def test_all_skip_cell_sums_its_paths():
    # Nodes sum their inputs: n1 = x, n2 = x + n1 = 2x, n3 = x + n1 + n2 = 4x.
    x = torch.randn(2, 4, 5, 5)
    assert torch.allclose(Nb201Cell(ALL_SKIP, 4)(x), 4 * x)


def test_edges_follow_the_arch_string():
    cell = Nb201Cell(MIXED, 4)
    assert list(cell.edges) == [f"{node}<-{inp}" for node, inp in EDGES]
    expected = {
        "1<-0": ReLUConvBN,
        "2<-0": ReLUConvBN,
        "2<-1": AvgPool3x3,
        "3<-0": nn.Identity,
        "3<-1": Zero,
        "3<-2": ReLUConvBN,
    }
    assert {k: type(v) for k, v in cell.edges.items()} == expected
    assert cell.edges["1<-0"].op[1].kernel_size == (3, 3)
    assert cell.edges["2<-0"].op[1].kernel_size == (1, 1)


def test_node_sums_by_hand_with_scaled_edges():
    # Edge (i, j) multiplies by a distinct weight; node 3 must get exactly its three inputs.
    class Scale(nn.Module):
        def __init__(self, w: float) -> None:
            super().__init__()
            self.w = w

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.w * x

    w = {(1, 0): 2.0, (2, 0): 3.0, (2, 1): 5.0, (3, 0): 7.0, (3, 1): 11.0, (3, 2): 13.0}
    cell = Nb201Cell(ALL_SKIP, 1)
    for (node, inp), weight in w.items():
        cell.edges[f"{node}<-{inp}"] = Scale(weight)
    n1 = w[1, 0]
    n2 = w[2, 0] + w[2, 1] * n1
    n3 = w[3, 0] + w[3, 1] * n1 + w[3, 2] * n2
    assert cell(torch.ones(1, 1, 1, 1)).item() == n3  # 7 + 22 + 13 * 13 = 198


def test_hand_computed_cell_with_real_ops():
    # n1 = pool(x); n2 = 0 + skip(n1); n3 = skip(x) + 0 + skip(n2) = x + pool(x).
    arch = Nb201Arch.parse(
        "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|none~1|skip_connect~2|"
    )
    x = torch.randn(2, 3, 5, 5)
    expected = x + F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    assert torch.allclose(Nb201Cell(arch, 3)(x), expected)
    # count_include_pad=False: a constant image stays constant at the border too.
    assert torch.allclose(AvgPool3x3()(torch.ones(1, 1, 4, 4)), torch.ones(1, 1, 4, 4))
