"""NB-201 arch strings: parsing, formatting, enumeration, mutation and its error messages."""

import random
from collections import Counter

import pytest

from common.errors import NasReproError
from common.spaces.nb201.arch import EDGES, NUM_ARCHS, OPS, Nb201Arch, all_archs

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def test_parse_format_round_trip():
    arch = Nb201Arch.parse(EXAMPLE)
    assert str(arch) == EXAMPLE
    assert arch.edge_op(2, 1) == "avg_pool_3x3"
    assert arch.edge_op(3, 2) == "skip_connect"
    assert Nb201Arch.from_indices(arch.op_indices) == arch


def test_enumeration_is_complete_and_unique():
    archs = list(all_archs())
    assert len(archs) == NUM_ARCHS == 15625
    assert len({str(a) for a in archs}) == NUM_ARCHS
    assert all(Nb201Arch.parse(str(a)) == a for a in archs[::97])


def test_every_table_arch_parses(nb201_bench):
    # the table's 15,625 strings map one-to-one onto our enumeration (checked at load time too)
    assert len(set(nb201_bench.bench_index.tolist())) == NUM_ARCHS


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("nor_conv_3x3~0|+|", "must start and end with '|'"),
        ("|nor_conv_3x3~0|+|none~0|none~1|", "expected 3 nodes"),
        ("|nor_conv_3x3~0|+|none~0|+|none~0|none~1|none~2|", "node 2 must have 2 input(s)"),
        ("|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv_7x7' in node 1"),
        ("|none~0|+|none~1|none~0|+|none~0|none~1|none~2|", "token 'none~1' of node 2"),
        ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "token 'none0' of node 1"),
    ],
)
def test_malformed_strings_say_which_part(text, fragment):
    with pytest.raises(NasReproError) as err:
        Nb201Arch.parse(text)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_mutation_changes_exactly_one_edge_with_the_official_edge_distribution():
    rng = random.Random(0)
    parent = Nb201Arch.parse(EXAMPLE)
    edges = Counter()
    for _ in range(18000):
        child = parent.mutate(rng)
        diff = [i for i, (a, b) in enumerate(zip(parent.ops, child.ops)) if a != b]
        assert len(diff) == 1 and child.ops[diff[0]] in OPS
        edges[EDGES[diff[0]]] += 1
    # node uniform, then input uniform: 1<-0 p=1/3, node 2 edges 1/6 each, node 3 edges 1/9 each
    expected = {
        (1, 0): 1 / 3,
        (2, 0): 1 / 6,
        (2, 1): 1 / 6,
        (3, 0): 1 / 9,
        (3, 1): 1 / 9,
        (3, 2): 1 / 9,
    }
    for edge, p in expected.items():
        assert abs(edges[edge] / 18000 - p) < 0.015, (edge, edges[edge])


def test_uniform_sampling_covers_ops_evenly():
    rng = random.Random(1)
    counts = Counter(op for _ in range(5000) for op in Nb201Arch.sample(rng).ops)
    assert all(abs(c / 30000 - 0.2) < 0.015 for c in counts.values())
