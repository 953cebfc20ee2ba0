"""PNAS's beam expansion enumerates exactly the children of a cell, the progressive loop
trains 1 level of one-block cells then K cells per level, and the trained predictor ranks
real NAS-Bench-201 cells far better than a random predictor."""

import itertools

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau

from common.spaces.nasnet import NASNET_SPACE, PNAS_SPACE, Block, Cell
from reproductions.pnas.search import expand, one_block_cells, progressive_search


def test_136_one_block_cells_in_pnas_space() -> None:
    cells = one_block_cells(PNAS_SPACE)
    assert len(cells) == 136  # PNAS Sect. 3.2 counts 136 one-block cells
    assert len({c.key() for c in cells}) == 136


@pytest.mark.parametrize("space", [PNAS_SPACE, NASNET_SPACE])
@pytest.mark.parametrize("num_blocks", [1, 2])
def test_expand_enumerates_exactly_the_children(space, num_blocks: int) -> None:
    parent = Cell(
        (Block(0, "sep_conv_3x3", 1, "identity"), Block(2, "max_pool_3x3", 0, "identity"))[
            :num_blocks
        ],
        space=space.name,
    )
    children = expand(parent)
    # brute force: every ordered (input, op, input, op, combine) as the new block
    states = range(num_blocks + 2)
    brute = {
        Cell((*parent.blocks, Block(ia, oa, ib, ob, comb)), space=space.name).key()
        for ia, oa, ib, ob, comb in itertools.product(
            states, space.ops, states, space.ops, space.combines
        )
    }
    assert {c.key() for c in children} == brute
    assert len(children) == len(brute)  # each child once
    n = (num_blocks + 2) * len(space.ops)
    assert len(children) == len(space.combines) * n * (n + 1) // 2
    assert all(c.blocks[:num_blocks] == parent.blocks for c in children)


def test_progressive_search_with_an_oracle_predictor_finds_the_best_cell() -> None:
    def reward(cell: Cell) -> float:  # a toy accuracy: separable convs on h_{c-1} are good
        return sum(
            (i == 0) + op.startswith("sep_conv_7")
            for b in cell.blocks
            for i, op in ((b.in_a, b.op_a), (b.in_b, b.op_b))
        )

    batches = []

    def train(cells):
        batches.append(len(cells))
        return [reward(c) for c in cells]

    def fit_predict(cells, rewards, candidates):
        return [reward(c) for c in candidates]

    result = progressive_search(PNAS_SPACE, train, fit_predict, max_blocks=3, beam=4)
    assert batches == [136, 4, 4]
    assert result.best().reward == 12  # 3 blocks x 2 arguments, each sep 7x7 on h_{c-1}


def test_trained_predictor_beats_a_random_one_on_nb201() -> None:
    from common.benchmarks.nb201 import EMBEDDED_TABLE, Nb201Benchmark
    from common.spaces.nb201 import all_archs
    from reproductions.pnas.nb201_task import encode_nb201, rank_correlations

    torch.set_num_threads(1)
    bench = Nb201Benchmark.from_csv(EMBEDDED_TABLE)
    encoded = [encode_nb201(a) for a in all_archs()]
    accs = np.asarray(bench.columns["cifar10_valid"])
    trained = rank_correlations(encoded, accs, k=100, kind="mlp", seed=0, size=2, epochs=100)
    rand = kendalltau(np.random.default_rng(0).random(len(accs)), accs).statistic
    assert abs(rand) < 0.05
    assert trained["kendall"] > 0.4  # measured 0.59 with 5 members
