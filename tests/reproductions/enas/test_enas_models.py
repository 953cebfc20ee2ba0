"""ENAS's published cell as timm models (the released fixed_arc decoded, and NSGA-Net's
re-encoding): their encodings and sizes in the DARTS CIFAR-10 network."""

import pytest
import timm

import reproductions  # noqa: F401  (registers the models)
from common.spaces.darts.genotype import ALL_OPS
from common.spaces.darts.model import count_params_m
from reproductions.enas.models import CELLS, PROVENANCE


def test_cells_are_five_node_reencodings() -> None:
    for name in ("ENAS", "ENAS_NSGANet"):
        assert CELLS[name].genotype.validate(steps=5, ops=ALL_OPS).steps == (5, 5)
    assert CELLS["ENAS"].genotype != CELLS["ENAS_NSGANet"].genotype
    assert "melodyguan/enas" in PROVENANCE["enas_darts_space_cifar10"]["origin"]
    assert "nsga-net" in PROVENANCE["enas_nsganet_darts_space_cifar10"]["origin"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # No source gives the size of these re-encodings in the DARTS network; the values are
        # as measured (count_params_m: the DARTS authors' count, no auxiliary head).
        ("enas_darts_space_cifar10", 4.394710),
        ("enas_nsganet_darts_space_cifar10", 3.859894),
    ],
)
def test_reencoded_cell_params(name: str, expected: float) -> None:
    params = count_params_m(timm.create_model(name))
    assert params == pytest.approx(expected, abs=1e-6)
    # ENAS's own network (DARTS Table 1: 4.6M) is a different network, quoted for scale only
    assert 0.5 * 4.6 < params < 1.5 * 4.6


def official_micro_count(normal, reduce, C: int, num_layers: int, aux: bool) -> int:
    """The parameters melodyguan/enas @4bcfd73 ``micro_child.py`` creates with ``fixed_arc``,
    walked from its ``create_weight`` / ``batch_norm`` calls (BN: scale and offset), not from
    the PyTorch modules: stem L248-252; per layer ``_maybe_calibrate_size`` L209-238,
    ``layer_base`` L416-424, ``_fixed_conv`` L341-367 per sep conv, the factorized reduction
    of a strided identity L457-459 and of an unused reduction-cell input L383-389; the
    auxiliary head L293-323 (left out of the official print, L721-725); fc L335-338."""
    n, pool = 27 * 3 * C + 2 * 3 * C, (num_layers // 3, 2 * (num_layers // 3) + 1)
    fr = lambda c_in, c: 2 * c_in * (c // 2) + 2 * c  # noqa: E731  (two 1x1 halves, BN)
    (c0, h0), (c1, h1), c = (3 * C, 32), (3 * C, 32), C
    for layer in range(num_layers + 2):
        stride, arc = (2, reduce) if layer in pool else (1, normal)
        c *= stride
        if h0 != h1:
            n += fr(c0, c)
        elif c0 != c:
            n += c0 * c + 2 * c
        n += (c1 * c + 2 * c if c1 != c else 0) + c * c + 2 * c
        used = set()
        for node in range(len(arc) // 4):
            for i, op in (
                (arc[4 * node], arc[4 * node + 1]),
                (arc[4 * node + 2], arc[4 * node + 3]),
            ):
                used.add(i)
                if op in (0, 1):
                    n += 2 * ((3, 5)[op] ** 2 * c + c * c + 2 * c)
                elif op == 4 and stride == 2 and i < 2:
                    n += fr(c, c)
        unused = [i for i in range(len(arc) // 4 + 2) if i not in used]
        n += sum(fr(c, c) for i in unused if i < 2 and stride == 2)
        (c0, h0), (c1, h1) = (c1, h1), (len(unused) * c, h1 // stride)
        if aux and layer == pool[1] + 1:
            k = (h1 - 5) // 3 + 1
            n += c1 * 128 + 2 * 128 + k * k * 128 * 768 + 2 * 768 + 768 * 10
    return n + c1 * 10


def test_enas_micro_final_params_match_the_official_construction() -> None:
    from reproductions.enas.micro_final import FINAL_ARC_NORMAL, FINAL_ARC_REDUCE, count_params

    model = timm.create_model("enas_micro_cifar10")
    arcs = (FINAL_ARC_NORMAL, FINAL_ARC_REDUCE)
    assert count_params(model) == official_micro_count(*arcs, 36, 15, aux=False) == 3_894_372
    assert count_params(model, aux=True) == official_micro_count(*arcs, 36, 15, aux=True)
    assert count_params(model, aux=True) == 4_389_220
    # the paper's 4.6M: the same network with 18 + 2 layers (DARTS Table 1's 20 cells)
    deeper = timm.create_model("enas_micro_cifar10", num_layers=18)
    assert count_params(deeper) == official_micro_count(*arcs, 36, 18, aux=False) == 4_587_372
    # another arc walks other branches (strided identities on the inputs, pools, 5x5)
    arc = (0, 4, 1, 1, 2, 3, 0, 4, 1, 2, 3, 0, 4, 4, 1, 0, 5, 1, 0, 3)
    small = timm.create_model("enas_micro_cifar10", normal_arc=arc, reduce_arc=arc, C=8)
    assert count_params(small, aux=True) == official_micro_count(arc, arc, 8, 15, aux=True)


def test_enas_micro_final_forward_and_schedules() -> None:
    import torch

    from reproductions.enas.micro_final import Pool, same_pad

    torch.manual_seed(0)
    model = timm.create_model("enas_micro_cifar10", C=8, num_layers=3)
    model.train()
    logits, aux = model.forward_with_aux(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 10)
    # drop path keep: 1 - (l + 1) / (L + 2) * (1 - 0.6) at the end of training (L199-200)
    assert model.layers[0].drop_keep == pytest.approx(1 - 0.4 / 5)
    assert model.layers[-1].drop_keep == pytest.approx(0.6)
    # TF "SAME": a 3x3 stride-2 window on 4x4 pads only bottom/right; averages count real pixels
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert same_pad(x, 3, 2).shape[-2:] == (5, 5) and same_pad(x, 3, 2)[0, 0, 0, 0] == 0.0
    avg = Pool("avg", 2)(x)
    assert avg[0, 0, 0, 0] == pytest.approx(x[0, 0, :3, :3].mean())
    assert avg[0, 0, 1, 1] == pytest.approx(x[0, 0, 2:, 2:].mean())
    assert Pool("max", 1)(x)[0, 0, 0, 0] == 5.0


def official_macro_count(arc, C: int, num_layers: int) -> int:
    """The variables melodyguan/enas @4bcfd73 ``general_child.py`` creates with ``fixed_arc``
    and whole channels, from its ``create_weight`` / ``batch_norm`` calls: stem L197-200; per
    layer ``conv_1x1`` and ``conv_{k}x{k}`` L393-405, the ``skip`` 1x1 conv over the
    concatenation L473-479 (layers 1 on); at each pool layer one factorized reduction per
    layer so far, the stem included (L214-224, L129-177); fc L234-242."""
    n, d = 27 * C + 2 * C, num_layers // 3
    start = 0
    for layer in range(num_layers):
        op, skips = arc[start], arc[start + 1 : start + 1 + layer]
        start += 1 + layer
        k = (3, 3, 5, 5)[op]
        n += C * C + 2 * C + k * k * C * C + 2 * C
        if layer > 0:
            n += (sum(skips) + 1) * C * C + 2 * C
        if layer in (d - 1, 2 * d - 1):
            n += (layer + 2) * (2 * C * C + 4 * C)  # two 1x1 halves C -> C, BN over 2C
            C *= 2
    return n + C * 10


def test_enas_macro_final_params_match_the_official_construction() -> None:
    import torch

    from reproductions.enas.macro_final import FINAL_MACRO_ARC

    model = timm.create_model("enas_macro_cifar10")
    params = sum(p.numel() for p in model.parameters())
    assert params == official_macro_count(FINAL_MACRO_ARC, 96, 24) == 42_559_392
    small = timm.create_model("enas_macro_cifar10", C=4)
    assert sum(p.numel() for p in small.parameters()) == official_macro_count(
        FINAL_MACRO_ARC, 4, 24
    )
    with torch.no_grad():
        assert small.eval()(torch.randn(2, 3, 32, 32)).shape == (2, 10)
