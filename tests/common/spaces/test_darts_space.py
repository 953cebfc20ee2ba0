"""The DARTS search space: genotypes, candidate ops and the networks trained from a genotype
(the search network and its genotype derivation: tests/common/supernets)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import torch
from torch import nn

from common.errors import NasReproError
from common.spaces.darts.genotype import ALL_OPS, PRIMITIVES, Genotype
from common.spaces.darts.model import NetworkCIFAR, NetworkImageNet, count_params_m, drop_path
from common.spaces.darts.ops import OPS, FactorizedReduce, SepConv, Zero, make_op

# DARTS_V2 exactly as quark0/darts cnn/genotypes.py @ f276dd3 writes it (architectures.md).
DARTS_V2_TEXT = """Genotype(
    normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1),
            ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1),
            ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)],
    reduce_concat=[2, 3, 4, 5])"""
V2 = Genotype.parse(DARTS_V2_TEXT)


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """One intra-op thread for this module: these small CPU batches gain little from threads,
    and OpenMP threads that spin on cores shared with other processes slowed the module ~7x."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- genotype --------------------------------------------------------------------------------


def test_canonical_string_round_trip() -> None:
    text = str(V2)
    assert "\n" not in text and text.startswith("Genotype(normal=[('sep_conv_3x3', 0), ")
    assert repr(V2) == text
    assert Genotype.parse(text) == V2
    assert hash(Genotype.parse(text)) == hash(V2)
    # The authors' search log form: a prefix and range() concat.
    logged = "genotype = " + text.replace("[2, 3, 4, 5]", "range(2, 6)")
    assert Genotype.parse(logged) == V2
    assert V2.steps == (4, 4)


def test_json_and_file_round_trip(tmp_path) -> None:
    assert Genotype.from_json(V2.to_json()) == V2
    assert Genotype.parse(V2.to_json(indent=2)) == V2
    path = tmp_path / "arch.json"
    V2.save(path)
    assert Genotype.load(path) == V2
    assert Genotype.parse(path.read_text()) == V2
    (tmp_path / "arch.txt").write_text(str(V2) + "\n")
    assert Genotype.load(tmp_path / "arch.txt") == V2


def test_digest_is_stable_and_distinguishes() -> None:
    other = Genotype(V2.reduce, V2.reduce_concat, V2.normal, V2.normal_concat)
    assert V2.digest() == Genotype.parse(str(V2)).digest()
    assert len(V2.digest()) == 16 and V2.digest() != other.digest()


def _replace_entry(cell: str, k: int, entry: object) -> str:
    data = V2.to_dict()
    data[cell][k] = entry
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # wrong op name: names it, where it is, and the valid ops
        (_replace_entry("normal", 2, ["conv_9x9", 0]), "unknown op 'conv_9x9' in normal[2]"),
        # an op outside the search space (defined only for re-encoded literature cells)
        (_replace_entry("reduce", 0, ["sep_conv_7x7", 0]), "unknown op 'sep_conv_7x7' in reduce"),
        # input index out of range for its node: the first node reads states 0 and 1 only
        (
            _replace_entry("reduce", 1, ["max_pool_3x3", 2]),
            "reduce[1] ('max_pool_3x3', 2): input 2 is out of range for node 2",
        ),
        (_replace_entry("normal", 7, ["dil_conv_3x3", -1]), "input -1 is out of range for node 5"),
        (_replace_entry("normal", 0, "sep_conv_3x3"), "normal[0] must be an (op, input) pair"),
        (_replace_entry("normal", 0, ["sep_conv_3x3", "0"]), "the input must be an int"),
        (
            V2.to_json().replace('"normal_concat": [2, 3, 4, 5]', '"normal_concat": [2, 3, 9]'),
            "normal_concat [2, 3, 9] names state 9",
        ),
        (
            V2.to_json().replace('"reduce_concat"', '"reduce_cat"'),
            "missing fields ['reduce_concat']",
        ),
        ("{not json", "not valid JSON"),
        ("DARTS_V2", "expected 'Genotype(normal=..., ...)' or JSON"),
        ("Genotype(normal=[('a', 0)]", "not a Python expression"),
    ],
)
def test_malformed_genotypes_name_the_bad_part(text: str, expected: str) -> None:
    with pytest.raises(NasReproError) as info:
        Genotype.parse(text)
    message = str(info.value)
    assert expected in message, message
    assert "\n" not in message


def test_unknown_op_error_lists_the_valid_ops() -> None:
    with pytest.raises(NasReproError, match="valid: none, max_pool_3x3, avg_pool_3x3"):
        Genotype.parse(_replace_entry("normal", 2, ["conv_9x9", 0]))


def test_wrong_number_of_entries() -> None:
    seven = V2.to_dict()
    seven["normal"] = seven["normal"][:7]
    with pytest.raises(NasReproError, match="normal must list 2 .* per node, got 7 entries"):
        Genotype.from_dict(seven)
    ten = V2.to_dict()
    ten["reduce"] = ten["reduce"] + [["skip_connect", 0], ["max_pool_3x3", 5]]
    with pytest.raises(NasReproError, match=r"reduce .* for 4 nodes \(8 entries\), got 10"):
        Genotype.from_dict(ten)
    # Outside the DARTS space (5-node literature cells) the node count is free.
    assert Genotype.from_dict(ten, steps=None).steps == (4, 5)


def test_literature_ops_are_allowed_when_asked_for() -> None:
    text = _replace_entry("reduce", 0, ["sep_conv_7x7", 0])
    assert Genotype.parse(text, ops=ALL_OPS).reduce[0] == ("sep_conv_7x7", 0)


def test_direct_construction_is_checked_too() -> None:
    bad_normal = [("skip_connect", 0), ("skip_connect", 3), *V2.normal[2:]]
    with pytest.raises(NasReproError, match="input 3 is out of range for node 2"):
        Genotype(bad_normal, [2, 3, 4, 5], V2.reduce, [2, 3, 4, 5])
    with pytest.raises(NasReproError, match="genotype file not found"):
        Genotype.load("/nonexistent/arch.json")


# --- candidate ops ---------------------------------------------------------------------------


def test_op_table_matches_the_genotype_vocabulary() -> None:
    assert tuple(OPS) == ALL_OPS and ALL_OPS[: len(PRIMITIVES)] == PRIMITIVES
    assert len(PRIMITIVES) == 8 and PRIMITIVES[0] == "none"
    with pytest.raises(NasReproError, match="unknown DARTS op 'conv_3x3'; valid: "):
        make_op("conv_3x3", 8)


@pytest.mark.parametrize("name", ALL_OPS)
@pytest.mark.parametrize("stride", [1, 2])
def test_every_op_keeps_channels_and_applies_the_stride(name: str, stride: int) -> None:
    op = make_op(name, 8, stride)
    out = op(torch.randn(2, 8, 16, 16))
    assert out.shape == (2, 8, 16 // stride, 16 // stride)


def test_op_structure_follows_the_authors_code() -> None:
    c = 8
    assert isinstance(make_op("skip_connect", c, 1), nn.Identity)
    assert isinstance(make_op("skip_connect", c, 2), FactorizedReduce)
    sep = make_op("sep_conv_3x3", c)
    assert isinstance(sep, SepConv)
    depthwise = [m for m in sep.modules() if isinstance(m, nn.Conv2d) and m.groups == c]
    assert len(depthwise) == 2  # the separable conv is applied twice
    # two blocks of (depthwise 3x3 + pointwise 1x1 + BN weight and bias), no conv biases
    assert sum(p.numel() for p in sep.parameters()) == 2 * (9 * c + c * c + 2 * c)
    dil = make_op("dil_conv_5x5", c)
    convs = [m for m in dil.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].dilation == (2, 2) and convs[0].kernel_size == (5, 5) and len(convs) == 2
    # count_include_pad=False: a corner of an all-ones map averages to exactly 1
    pooled = make_op("avg_pool_3x3", c)(torch.ones(1, c, 4, 4))
    assert torch.equal(pooled, torch.ones_like(pooled))
    assert sum(p.numel() for p in make_op("none", c).parameters()) == 0


def test_zero_op_outputs_zeros_of_the_strided_shape() -> None:
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(Zero(1)(x), torch.zeros_like(x))
    assert torch.equal(Zero(2)(x), torch.zeros(2, 4, 4, 4))


# --- networks trained from a genotype ------------------------------------------------------


@pytest.fixture(scope="module")
def small_cifar() -> NetworkCIFAR:
    torch.manual_seed(0)
    return NetworkCIFAR(C=8, num_classes=10, layers=5, auxiliary=True, genotype=V2)


def test_cifar_network_outputs_and_aux_head(small_cifar: NetworkCIFAR) -> None:
    x = torch.randn(2, 3, 32, 32)
    small_cifar.train()
    logits, aux = small_cifar.forward_with_aux(x)
    assert logits.shape == (2, 10) and aux is not None and aux.shape == (2, 10)
    small_cifar.eval()
    logits, aux = small_cifar.forward_with_aux(x)
    assert aux is None and logits.shape == (2, 10)
    assert torch.equal(small_cifar(x), logits)  # forward() is the logits alone


def test_drop_path_only_in_training(small_cifar: NetworkCIFAR) -> None:
    x = torch.randn(4, 3, 32, 32)
    small_cifar.drop_path_prob = 0.5
    try:
        small_cifar.eval()
        assert torch.equal(small_cifar(x), small_cifar(x))
        small_cifar.train()
        torch.manual_seed(1)
        first = small_cifar(x)
        torch.manual_seed(2)
        assert not torch.allclose(first, small_cifar(x))
        small_cifar.drop_path_prob = 0.0
        assert torch.equal(small_cifar(x), small_cifar(x))  # train mode, no drop: deterministic
    finally:
        small_cifar.drop_path_prob = 0.0
        small_cifar.eval()


def test_drop_path_drops_whole_samples_and_rescales() -> None:
    torch.manual_seed(0)
    x = torch.ones(64, 2, 3, 3)
    out = drop_path(x, 0.25)
    per_sample = out.flatten(1)
    kept = per_sample[:, 0] > 0
    assert torch.allclose(per_sample[kept], torch.full_like(per_sample[kept], 1.0 / 0.75))
    assert torch.equal(per_sample[~kept], torch.zeros_like(per_sample[~kept]))
    assert 0 < int(kept.sum()) < 64
    assert (per_sample == per_sample[:, :1]).all()  # one decision per sample
    assert drop_path(x, 0.0) is x


def test_cifar_network_matches_the_authors_names_and_counting() -> None:
    with_aux = NetworkCIFAR(C=8, layers=5, auxiliary=True, genotype=V2)
    without = NetworkCIFAR(C=8, layers=5, auxiliary=False, genotype=V2)
    assert count_params_m(with_aux) == count_params_m(without)  # aux head excluded
    assert count_params_m(with_aux) < sum(p.numel() for p in with_aux.parameters()) / 1e6
    names = set(with_aux.state_dict())
    # parameter names of the authors' cnn/model.py, so their checkpoints load
    for key in (
        "stem.0.weight",
        "cells.0.preprocess0.op.1.weight",
        "cells.0._ops.0.op.1.weight",  # sep_conv_3x3: op.1 depthwise ... op.7 last BN
        "cells.0._ops.0.op.7.running_mean",
        "cells.2.preprocess0.conv_1.weight",  # after a reduction cell: FactorizedReduce
        "auxiliary_head.features.2.weight",
        "classifier.weight",
    ):
        assert key in names, key


def test_five_node_literature_cells_build() -> None:
    nasnet_like = Genotype.parse(
        "Genotype(normal=[('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_7x7', 0),"
        " ('conv_7x1_1x7', 0), ('avg_pool_3x3', 1), ('skip_connect', 0), ('avg_pool_3x3', 0),"
        " ('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 1)],"
        " normal_concat=[2, 3, 4, 5, 6], reduce=[('sep_conv_5x5', 1), ('sep_conv_7x7', 0),"
        " ('max_pool_3x3', 1), ('sep_conv_7x7', 0), ('avg_pool_3x3', 1), ('sep_conv_5x5', 0),"
        " ('skip_connect', 3), ('avg_pool_3x3', 2), ('sep_conv_3x3', 2), ('max_pool_3x3', 1)],"
        " reduce_concat=[4, 5, 6])",
        steps=None,
        ops=ALL_OPS,
    )
    net = NetworkCIFAR(C=8, layers=5, auxiliary=False, genotype=nasnet_like).eval()
    assert net(torch.randn(1, 3, 32, 32)).shape == (1, 10)


def test_imagenet_network_on_a_224_image() -> None:
    torch.manual_seed(0)
    net = NetworkImageNet(C=16, num_classes=1000, layers=5, auxiliary=True, genotype=V2)
    net.eval()
    assert net(torch.randn(1, 3, 224, 224)).shape == (1, 1000)
    net.train()
    logits, aux = net.forward_with_aux(torch.randn(2, 3, 224, 224))
    assert logits.shape == (2, 1000) and aux is not None and aux.shape == (2, 1000)
    assert "cells.0.preprocess0.conv_1.weight" in net.state_dict()  # stem0 is 2x larger
