"""NAS-Bench-Macro codes: parsing, enumeration, the canonical form (checked against the
benchmark file: codes of one class share one trained result), sampling and mutation."""

import json
import random
from collections import Counter

import pytest

from common.errors import NasReproError
from common.spaces.nb_macro.arch import NUM_ARCHS, OPS, MacroArch, all_archs, distinct_archs


def test_parse_str_and_ops_round_trip():
    arch = MacroArch.parse("22212220")
    assert str(arch) == "22212220" and arch.choices == (2, 2, 2, 1, 2, 2, 2, 0)
    assert arch.ops[3] == "ir_3x3_t3" and arch.ops[-1] == "id"
    assert MacroArch.from_ops(arch.ops) == arch
    assert hash(arch) == hash(MacroArch.parse(" 22212220\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [("2221222", "expected 8 digits"), ("22212223", "expected 8 digits"), ("2221222a", "digits")],
)
def test_malformed_codes_fail_in_one_line(text, message):
    with pytest.raises(NasReproError, match=message):
        MacroArch.parse(text)


def test_invalid_choices_are_refused():
    with pytest.raises(NasReproError, match="layer 7 has choice 3"):
        MacroArch((0,) * 7 + (3,))
    with pytest.raises(NasReproError, match="needs 8 layers"):
        MacroArch((0,) * 9)
    with pytest.raises(NasReproError, match="unknown NAS-Bench-Macro ops"):
        MacroArch.from_ops(("id",) * 7 + ("skip",))


def test_enumeration_and_index():
    archs = list(all_archs())
    assert len(archs) == NUM_ARCHS == 6561 and len(set(archs)) == NUM_ARCHS
    assert [a.index for a in archs] == list(range(NUM_ARCHS))
    assert MacroArch.parse("00000012").index == 5


@pytest.mark.parametrize(
    ("code", "canonical"),
    [
        ("22212220", "22212220"),
        ("00000000", "00000000"),
        ("10001002", "10010020"),  # identities move to the end of their stage
        ("02021102", "02021120"),  # a stage's first id stays: it is a 1x1 conv
        ("20201012", "20210012"),
    ],
)
def test_canonical_moves_identities_behind_the_blocks_of_their_stage(code, canonical):
    arch = MacroArch.parse(code)
    assert str(arch.canonical()) == canonical
    assert arch.canonical().canonical() == arch.canonical()


def test_there_are_3969_distinct_networks():
    # stage 1: 3 x 3; stages 2 and 3: 3 first ops x 7 block sequences of length <= 2
    assert sum(1 for _ in distinct_archs()) == 9 * 21 * 21 == 3969


def test_the_benchmark_file_agrees_with_the_canonical_form(shared_file):
    raw = json.loads(shared_file("nas-bench-macro_cifar10.json").read_text())
    classes: dict[str, set] = {}
    for code, entry in raw.items():
        key = str(MacroArch.parse(code).canonical())
        classes.setdefault(key, set()).add(tuple(entry["test_acc"]))
    # one trained result per class, and the 3,969 classes' results all differ
    assert all(len(results) == 1 for results in classes.values())
    assert len({next(iter(r)) for r in classes.values()}) == len(classes) == 3969


def test_sample_is_uniform_per_layer():
    rng = random.Random(0)
    counts = Counter(c for _ in range(3000) for c in MacroArch.sample(rng).choices)
    assert all(abs(counts[c] / 24000 - 1 / 3) < 0.02 for c in range(len(OPS)))


def test_mutation_changes_one_layer_and_always_the_network():
    rng = random.Random(1)
    arch = MacroArch.parse("22212220")
    layers = Counter()
    for _ in range(800):
        child = arch.mutate(rng)
        diff = [i for i in range(8) if child.choices[i] != arch.choices[i]]
        assert len(diff) == 1
        layers[diff[0]] += 1
        assert child.canonical() != arch.canonical()
        arch = child
    assert len(layers) == 8
