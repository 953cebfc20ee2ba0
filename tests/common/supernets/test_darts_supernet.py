"""The DARTS-space supernet skeleton with DARTS's softmax mixer: layout, size against the
authors' log, the parameter partition, gradients, and the genotype derivation (DARTS Sect.
2.4) on hand-set alphas and against the authors' rule."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from common.spaces.darts.genotype import PRIMITIVES
from common.spaces.darts.model import count_params_m
from common.supernets.darts import DartsSupernet, _edge_op, derive_cell, derive_genotype, num_edges
from common.supernets.mixers import SoftmaxMixer

# ---- search network ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def search_net() -> DartsSupernet:
    torch.manual_seed(0)
    return DartsSupernet()  # App. A.1.1: 8 cells, 16 channels


def test_search_network_layout(search_net: DartsSupernet) -> None:
    assert num_edges(4) == 14
    assert [cell.reduction for cell in search_net.cells] == [
        i in (2, 5) for i in range(8)
    ]  # layers // 3 and 2 * layers // 3
    for cell in search_net.cells:
        assert len(cell.edges) == 14
        assert all(tuple(edge) == PRIMITIVES for edge in cell.edges)
    for alphas in search_net.arch_parameters():
        assert alphas.shape == (14, 8) and alphas.requires_grad
        assert alphas.abs().max() < 0.01  # 1e-3 * randn, as in the code
    # BN without affine parameters everywhere in the cells (App. A.1.1); the stem's keeps them
    cell_bns = [m for m in search_net.cells.modules() if isinstance(m, nn.BatchNorm2d)]
    assert cell_bns and not any(bn.affine for bn in cell_bns)
    assert search_net.stem[1].affine


def test_search_network_size_matches_the_authors_log(search_net: DartsSupernet) -> None:
    # cnn/train_search.py logs "param size = 1.930618MB" for this network (line quoted in an
    # annotated public copy of the script); the alphas are not counted, as the code does not
    # register them as parameters.
    assert count_params_m(search_net) == pytest.approx(1.930618, abs=1e-6)


def test_arch_and_weight_parameters_partition_all_parameters(
    search_net: DartsSupernet,
) -> None:
    arch = {id(p) for p in search_net.arch_parameters()}
    weights = {id(p) for p in search_net.weight_parameters()}
    assert arch.isdisjoint(weights)
    assert arch | weights == {id(p) for p in search_net.parameters()}
    assert len(arch) == 2


def test_search_network_forward_and_arch_gradients(search_net: DartsSupernet) -> None:
    search_net.zero_grad()
    out = search_net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
    out.sum().backward()
    for alphas in search_net.arch_parameters():
        assert alphas.grad is not None and alphas.grad.abs().sum() > 0
        # alpha_none is not evaluated as an op but still gets its softmax gradient
        assert alphas.grad[:, PRIMITIVES.index("none")].abs().sum() > 0


def test_none_costs_nothing_and_changes_nothing() -> None:
    torch.manual_seed(0)
    mixer = SoftmaxMixer(PRIMITIVES, num_edges=1, cell_types=("normal",))
    ops = nn.ModuleDict({op: _edge_op(op, 4, 1, affine=False, pool_bn=True) for op in PRIMITIVES})
    calls: list[str] = []
    ops["none"].register_forward_hook(lambda *_: calls.append("none"))
    x = torch.randn(2, 4, 8, 8)
    weights = torch.softmax(torch.randn(1, len(PRIMITIVES)), dim=1)
    # the same sum with every op evaluated, none included, as the authors' code does it
    reference = sum(w * ops[op](x) for w, op in zip(weights[0], PRIMITIVES, strict=True))
    assert torch.allclose(mixer.mix(ops, x, 0, weights), reference, atol=1e-6)
    assert calls == ["none"]  # that one call came from the reference sum, not from the mixer
    only_none = torch.nn.functional.one_hot(torch.tensor([0]), len(PRIMITIVES)).float()
    assert torch.equal(mixer.mix(ops, x, 0, only_none), torch.zeros_like(x))
    assert calls == ["none"]


def _hand_set_alphas() -> tuple[torch.Tensor, list[tuple[str, int]]]:
    """Alphas for one cell (rows = edges, grouped by node) and the genotype Sect. 2.4 gives."""
    a = torch.zeros(14, 8)
    col = PRIMITIVES.index
    # node 2 (rows 0-1): inputs 0 and 1 with sep_conv_3x3 and skip_connect
    a[0, col("sep_conv_3x3")] = 5.0
    a[1, col("skip_connect")] = 4.0
    # node 3 (rows 2-4): input 0 is dominated by none (softmax 0.9997), which must not count:
    # its best real op weighs 1e-4, so inputs 1 (dil_conv_5x5, 0.74) and 2 (avg_pool, 0.51) win
    a[2, col("none")] = 10.0
    a[2, col("max_pool_3x3")] = 1.0
    a[3, col("dil_conv_5x5")] = 3.0
    a[4, col("avg_pool_3x3")] = 2.0
    # node 4 (rows 5-8): a large none on input 0 does not hide its sep_conv_5x5 (0.377), which
    # beats max_pool on input 2 (0.28) and the uniform rows (0.125)
    a[5, col("none")] = 10.0
    a[5, col("sep_conv_5x5")] = 9.5
    a[7, col("max_pool_3x3")] = 1.0
    # node 5 (rows 9-13): all equal; ties go to the lower input and the earlier op, as in the
    # code's stable sort and strict '>'
    expected = [
        ("sep_conv_3x3", 0),
        ("skip_connect", 1),
        ("dil_conv_5x5", 1),
        ("avg_pool_3x3", 2),
        ("sep_conv_5x5", 0),
        ("max_pool_3x3", 2),
        ("max_pool_3x3", 0),
        ("max_pool_3x3", 1),
    ]
    return a, expected


def test_genotype_derivation_on_hand_set_alphas(search_net: DartsSupernet) -> None:
    alphas, expected = _hand_set_alphas()
    assert derive_cell(alphas) == expected
    saved = [p.detach().clone() for p in search_net.arch_parameters()]
    try:
        with torch.no_grad():
            search_net.mixer.alphas["normal"].copy_(alphas)
            search_net.mixer.alphas["reduce"].zero_()
        genotype = search_net.genotype()
    finally:
        with torch.no_grad():
            for p, s in zip(search_net.arch_parameters(), saved, strict=True):
                p.copy_(s)
    assert genotype.normal == tuple(expected)
    assert genotype.reduce[:2] == (("max_pool_3x3", 0), ("max_pool_3x3", 1))
    assert genotype.normal_concat == genotype.reduce_concat == (2, 3, 4, 5)
    assert genotype.validate() is genotype  # derived genotypes are in the DARTS space


def _authors_parse(weights: list[list[float]], steps: int = 4) -> list[tuple[str, int]]:
    """A line-by-line restatement of ``_parse`` in cnn/model_search.py, as a reference."""
    none = PRIMITIVES.index("none")
    gene, n, start = [], 2, 0
    for _ in range(steps):
        w = weights[start : start + n]
        edges = sorted(
            range(n), key=lambda x: -max(w[x][k] for k in range(len(w[x])) if k != none)
        )[:2]
        for j in edges:
            k_best = None
            for k in range(len(w[j])):
                if k != none and (k_best is None or w[j][k] > w[j][k_best]):
                    k_best = k
            gene.append((PRIMITIVES[k_best], j))
        start += n
        n += 1
    return gene


@pytest.mark.parametrize("seed", range(5))
def test_derivation_matches_the_authors_rule_on_random_alphas(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    alphas = torch.randn(14, 8, generator=g)
    alphas[:, 0] += 3.0  # a strong none column, the case where the rule matters
    weights = torch.softmax(alphas, dim=-1).tolist()
    assert derive_cell(alphas) == _authors_parse(weights)
    genotype = derive_genotype(alphas, alphas.flip(0), multiplier=3)
    assert genotype.normal_concat == (3, 4, 5)
