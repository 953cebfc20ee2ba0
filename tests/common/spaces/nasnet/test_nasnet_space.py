"""The NASNet cell space as data (validation, canonical form, the block counts PNAS's search
relies on) and the network builder (shapes, op channel rules, the TF-slim Large networks
that timm ships, to the parameter)."""

import pytest
import torch

from common.errors import NasReproError
from common.spaces.nasnet import (
    NASNET_SPACE,
    PNAS_SPACE,
    Block,
    Cell,
    NASNetwork,
    NetworkConfig,
    blocks_at,
    calc_reduction_layers,
    count_params,
    notation,
)
from common.spaces.nasnet.ops import make_op
from common.spaces.nasnet.published import NASNET_A_NORMAL, NASNET_A_REDUCTION, PNASNET_5


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_space_sizes() -> None:
    assert len(NASNET_SPACE.ops) == 13 and NASNET_SPACE.combines == ("add", "concat")
    assert len(PNAS_SPACE.ops) == 8 and PNAS_SPACE.combines == ("add",)
    assert set(PNAS_SPACE.ops) <= set(NASNET_SPACE.ops)


def test_one_block_cells_are_136_in_pnas_space() -> None:
    # PNAS Sect. 3.2: 2 inputs x 8 ops per argument, both orders equal: 16 * 17 / 2 = 136
    assert len(list(blocks_at(0, PNAS_SPACE))) == 136
    # block b reads b + 2 states: (|I| |O|)(|I| |O| + 1) / 2 per combination
    assert len(list(blocks_at(1, PNAS_SPACE))) == 24 * 25 // 2
    assert len(list(blocks_at(0, NASNET_SPACE))) == 2 * 26 * 27 // 2


def test_validation_names_the_problem() -> None:
    with pytest.raises(NasReproError, match="block 0 reads hidden state 2"):
        Cell((Block(2, "identity", 0, "identity"),))
    with pytest.raises(NasReproError, match="unknown pnas op"):
        Cell((Block(0, "conv_3x3", 1, "identity"),), space="pnas")
    with pytest.raises(NasReproError, match="combination"):
        Cell((Block(0, "identity", 1, "identity", "concat"),), space="pnas")
    with pytest.raises(NasReproError, match="cell output"):
        Cell((Block(0, "identity", 1, "identity"),), concat=(3,))


def test_canonical_form_ignores_argument_order_only() -> None:
    a = Cell((Block(0, "sep_conv_3x3", 1, "identity"), Block(2, "avg_pool_3x3", 0, "identity")))
    b = Cell((Block(1, "identity", 0, "sep_conv_3x3"), Block(0, "identity", 2, "avg_pool_3x3")))
    c = Cell((Block(0, "identity", 1, "sep_conv_3x3"), Block(2, "avg_pool_3x3", 0, "identity")))
    assert a.hash() == b.hash() and a != b
    assert a.hash() != c.hash()  # the op moved to the other input


def test_output_rules() -> None:
    cell = Cell((Block(0, "identity", 0, "sep_conv_3x3"), Block(2, "identity", 0, "identity")))
    assert cell.output_states() == (1, 3)  # NASNet: every unused state, h_{c-2} included
    pnas = Cell(cell.blocks, space="pnas")
    assert pnas.output_states() == (2, 3)  # PNAS: every block (PNASNet-5 as released)
    assert PNASNET_5.output_states() == (2, 3, 4, 5, 6)
    assert NASNET_A_NORMAL.output_states() == (1, 2, 3, 4, 5, 6)
    assert NASNET_A_REDUCTION.output_states() == (3, 4, 5, 6)


def test_tf_cells_equal_the_darts_reencodings_with_inputs_swapped() -> None:
    import reproductions  # noqa: F401
    from reproductions.nasnet.models import CELLS as NASNET_CELLS
    from reproductions.pnas.models import CELLS as PNAS_CELLS

    def as_darts(cell: Cell) -> tuple:
        swap = {0: 1, 1: 0}
        darts_name = {"identity": "skip_connect"}
        return tuple(
            (darts_name.get(op, op), swap.get(i, i))
            for b in cell.blocks
            for i, op in ((b.in_a, b.op_a), (b.in_b, b.op_b))
        )

    assert as_darts(NASNET_A_NORMAL) == NASNET_CELLS["NASNet"].genotype.normal
    assert as_darts(NASNET_A_REDUCTION) == NASNET_CELLS["NASNet"].genotype.reduce
    assert as_darts(PNASNET_5) == PNAS_CELLS["PNASNet"].genotype.normal


@pytest.mark.parametrize("op", NASNET_SPACE.ops)
@pytest.mark.parametrize("stride", [1, 2])
def test_every_op_maps_to_filters_and_strides(op: str, stride: int) -> None:
    out = make_op(op, 6, 8, stride, 1e-3)(torch.randn(2, 6, 10, 10))
    assert out.shape == (2, 8, 10 // stride, 10 // stride)


def test_reduction_layers_and_notation() -> None:
    assert calc_reduction_layers(18, 2) == [6, 12] and calc_reduction_layers(9, 2) == [3, 6]
    net = NASNetwork(NASNET_A_NORMAL, NASNET_A_REDUCTION, NetworkConfig(18, 32))
    assert notation(net) == "6 @ 768" and len(net.cells) == 20


@pytest.mark.parametrize("combine", ["add", "concat"])
def test_searched_cells_run_forward_and_backward(combine: str) -> None:
    cell = Cell(
        (
            Block(0, "conv_1x7_7x1", 1, "max_pool_5x5", combine),
            Block(2, "dil_conv_3x3", 1, "conv_1x1"),
        )
    )
    net = NASNetwork(cell, cell, NetworkConfig(num_cells=3, num_conv_filters=4, use_aux_head=False))
    out = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_aux_head_only_in_training() -> None:
    net = NASNetwork(PNASNET_5, None, NetworkConfig(6, 4, layout="pnas"))
    logits, aux = net.train()(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 10)
    assert net.eval()(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.slow
def test_large_networks_equal_timm_to_the_parameter() -> None:
    """TF-slim large_imagenet_config of nasnet.py / pnasnet.py (03cdc5f) against timm's ports
    of the official checkpoints (no auxiliary head in timm)."""
    import timm

    nasnet = NASNetwork(
        NASNET_A_NORMAL,
        NASNET_A_REDUCTION,
        NetworkConfig(
            18,
            168,
            "imagenet",
            3.0,
            skip_reduction_layer_input=True,
            image_size=331,
            num_classes=1000,
        ),
    )
    assert notation(nasnet) == "6 @ 4032"
    assert count_params(nasnet, aux=False) == 88_753_150
    assert count_params(timm.create_model("nasnetalarge")) == 88_753_150
    pnas = NASNetwork(
        PNASNET_5,
        None,
        NetworkConfig(
            12,
            216,
            "imagenet",
            3.0,
            layout="pnas",
            skip_reduction_layer_input=True,
            image_size=331,
            num_classes=1000,
        ),
    )
    assert count_params(pnas, aux=False) == 86_057_668
    assert count_params(timm.create_model("pnasnet5large")) == 86_057_668
