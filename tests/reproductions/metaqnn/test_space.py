"""MetaQNN's state-action space: the rules of Table 1 / Sect. 4.2 and the published networks."""

import pytest

from common.errors import NasReproError
from reproductions.metaqnn.space import Arch, Layer, MetaQNNSpace, State, pooled_size, rsize_bin

CIFAR = MetaQNNSpace(max_depth=18)  # Sect. 5: CIFAR-10 raises the maximum depth to 18
SVHN = MetaQNNSpace()  # Table 1: depth < 12

# Table A2 (CIFAR-10) and Table A3 (SVHN) rows 1, read from the paper's appendix.
TOP_CIFAR = "[C(512,5,1), C(256,3,1), C(256,5,1), C(256,3,1), P(5,3), C(512,3,1), C(512,5,1), P(2,2), SM(10)]"
TOP5_CIFAR = "[C(64,3,1), C(128,3,1), P(5,3), C(256,3,1), P(3,2), FC(512), FC(128), SM(10)]"
TOP_SVHN = (
    "[C(128,3,1), P(2,2), C(64,5,1), C(512,5,1), C(256,3,1), C(512,3,1), P(2,2), C(512,3,1),"
    " C(256,5,1), C(256,3,1), C(128,5,1), C(64,3,1), SM(10)]"
)


def kinds(actions):
    return sorted({a.kind for a in actions})


def test_start_state_offers_conv_gap_and_termination_only():
    acts = CIFAR.actions(CIFAR.start())
    assert kinds(acts) == ["C", "GAP", "SM"]  # no pooling first, no FC at R-size 32
    assert sum(a.kind == "C" for a in acts) == 4 * 3  # d in {64..512} x f in {1,3,5}


def test_pooling_never_follows_pooling_and_fc_needs_a_small_representation():
    conv = State(1, Layer("C", 64, 3, 1), 8)
    pool = State(2, Layer("P", 0, 2, 2), 8)
    assert "P" in kinds(CIFAR.actions(conv)) and "P" not in kinds(CIFAR.actions(pool))
    assert "FC" not in kinds(CIFAR.actions(pool))  # bin 8: no FC
    assert "FC" in kinds(CIFAR.actions(pool._replace(rbin=4)))


def test_fc_chains_shrink_and_stop_at_two():
    fc1 = State(3, Layer("FC", 256), 4, num_fc=1)
    assert [a.width for a in CIFAR.actions(fc1) if a.kind == "FC"] == [256, 128]
    assert kinds(CIFAR.actions(fc1._replace(num_fc=2))) == ["SM"]


def test_receptive_fields_fit_the_bin_and_depth_limit_forces_termination():
    small = State(4, Layer("C", 64, 3, 1), 1)
    assert {a.size for a in CIFAR.actions(small) if a.kind == "C"} == {1}
    assert not [a for a in CIFAR.actions(small) if a.kind == "P"]
    assert kinds(CIFAR.actions(small._replace(depth=18))) == ["SM"]
    assert kinds(CIFAR.actions(State(5, Layer("GAP"), 1))) == ["SM"]


def test_pooling_transitions_are_stochastic_in_the_bins():
    # App. B, Fig. A1: the same P(2,2) keeps 18 -> 9 in the top bin but takes 14 -> 7 down
    assert rsize_bin(pooled_size(18, 2, 2)) == 8 and rsize_bin(pooled_size(14, 2, 2)) == 4
    assert [rsize_bin(n) for n in (32, 8, 7, 4, 3, 1)] == [8, 8, 4, 4, 1, 1]


@pytest.mark.parametrize("arch,space", [(TOP_CIFAR, CIFAR), (TOP5_CIFAR, CIFAR), (TOP_SVHN, SVHN)])
def test_published_networks_are_paths_of_the_space(arch, space):
    parsed = Arch.parse(arch)
    assert str(parsed) == arch
    path = space.states(parsed)
    assert path[-1].terminal and len(path) == len(parsed) + 1


def test_broken_networks_are_refused():
    with pytest.raises(NasReproError, match="may not follow"):
        CIFAR.states(Arch.parse("[C(64,3,1), P(2,2), P(2,2), SM(10)]"))
    with pytest.raises(NasReproError, match="end in SM"):
        Arch.parse("[C(64,3,1)]")
