"""ENAS's micro child network: a child through the shared network equals the same child built
as a discrete network with copied weights, bit for bit, in training and evaluation mode."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from common.controllers.micro_policy import MicroLstmPolicy, split_arc
from common.supernets.enas_micro import EnasMicroNet, cell_edges, copy_child_weights

OFFICIAL = "0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1 1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1"


def arcs():
    torch.manual_seed(0)
    sampled = MicroLstmPolicy().sample(2).decisions.tolist()
    same_twice = [0, 1, 0, 1] * 5 + [1, 4, 1, 4] * 5  # one input twice: two separate edges
    return [[int(v) for v in OFFICIAL.split()], same_twice, *sampled]


@pytest.mark.parametrize("batch_stats", [True, False])
@pytest.mark.parametrize("k", range(3))
def test_shared_child_equals_discrete_child(batch_stats: bool, k: int) -> None:
    arc = split_arc(arcs()[k])
    torch.manual_seed(k)
    shared = EnasMicroNet(C=6, num_layers=3, batch_stats=batch_stats)
    shared.set_arc(arc)
    child = EnasMicroNet(C=6, num_layers=3, batch_stats=batch_stats, arc=arc)
    copy_child_weights(child, shared, arc)
    x, y = torch.randn(2, 3, 32, 32), torch.randint(0, 10, (2,))
    for train in (True, False):
        shared.train(train)
        child.train(train)
        torch.manual_seed(7)
        a, a_aux = shared.forward_with_aux(x)
        torch.manual_seed(7)
        b, b_aux = child.forward_with_aux(x)
        assert torch.equal(a, b)
        assert (a_aux is None) == (b_aux is None) == (not train)
        if train:
            assert torch.equal(a_aux, b_aux)
            F.cross_entropy(a, y).backward()
            F.cross_entropy(b, y).backward()
            torch.testing.assert_close(shared.stem[0].weight.grad, child.stem[0].weight.grad)


def test_unused_states_are_concatenated() -> None:
    arc = split_arc([int(v) for v in OFFICIAL.split()])
    child = EnasMicroNet(C=6, num_layers=3, arc=arc)
    assert child.cells[0].unused == [2, 3, 4, 5, 6]  # normal: only the inputs feed nodes
    assert child.cells[1].unused == [2, 4, 5, 6]  # reduce: node 3 (state 3) feeds node 2
    assert child.cells[0].final_conv.in_channels == 5 * 6


def test_edges_and_weight_sharing() -> None:
    """Edges per cell: 2 branches x (2 + i) inputs per node: 2 * (2+3+4+5+6) = 40; every
    child's weights are a subset of the shared network's, so switching arcs changes nothing
    but the path."""
    assert len(cell_edges(5)) == 40
    shared = EnasMicroNet(C=4, num_layers=3)
    n = sum(p.numel() for p in shared.parameters())
    for row in arcs():
        shared.set_arc(split_arc(row))
        assert sum(p.numel() for p in shared.parameters()) == n
