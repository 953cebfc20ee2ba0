"""TE-NAS on the DARTS space: its supernets' configuration (the masked supernet against the
discrete DARTS network is tested in tests/common/supernets), the per-edge and per-node
pruning rules on hand-set deltas, and one small search through the stage function whose
genotype file the DARTS retrain stage reads."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from common.cli import CONF_DIR
from common.protocols.darts_eval import load_genotype
from common.results.logging import RunLogger
from common.spaces.darts.genotype import Genotype
from common.spaces.darts.ops import FactorizedReduce
from common.supernets.darts import genotype_mask as common_genotype_mask
from reproductions.te_nas import darts_search, darts_task, search
from reproductions.te_nas.darts_supernet import (
    EDGES,
    NODE_EDGE_GROUPS,
    TENAS_DARTS_OPS,
    darts_supernet,
    full_mask,
    mask_to_genotype,
    prune,
)
from reproductions.te_nas.search import choose_prunes, rank_sum_order
from tests.reproductions.helpers import random_image_pool

GENOTYPE = Genotype(
    normal=[
        ("sep_conv_3x3", 0), ("skip_connect", 1),
        ("dil_conv_3x3", 0), ("sep_conv_5x5", 2),
        ("avg_pool_3x3", 1), ("max_pool_3x3", 3),
        ("skip_connect", 2), ("dil_conv_5x5", 4),
    ],
    normal_concat=[2, 3, 4, 5],
    reduce=[
        ("max_pool_3x3", 0), ("skip_connect", 1),
        ("sep_conv_3x3", 1), ("skip_connect", 2),
        ("avg_pool_3x3", 0), ("dil_conv_3x3", 2),
        ("sep_conv_5x5", 3), ("skip_connect", 4),
    ],
    reduce_concat=[2, 3, 4, 5],
)  # fmt: skip


def genotype_mask(genotype: Genotype):
    return tuple(common_genotype_mask(genotype).values())


def test_factorized_reduce_pads_odd_sizes_and_keeps_even_ones():
    torch.manual_seed(0)
    fr = FactorizedReduce(2, 4).eval()
    x = torch.randn(1, 2, 6, 6)
    even = fr(x)
    manual = fr.bn(torch.cat([fr.conv_1(x.relu()), fr.conv_2(x.relu()[:, :, 1:, 1:])], 1))
    torch.testing.assert_close(even, manual)
    odd = fr(torch.randn(1, 2, 3, 3))  # TE-NAS's 3x3 crops through a reduction cell
    assert odd.shape == (1, 4, 2, 2)


def test_supernets_follow_the_tenas_configs():
    ntk_net = darts_supernet(1, 1, 10, depth=2)
    assert [c.reduction for c in ntk_net.cells] == [False, True]
    assert ntk_net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert ntk_net.classifier.in_features == 8  # reduction cell: 4 nodes x 2C
    thin = darts_supernet(1, 1, 10, depth=2, use_stem=False)
    assert thin(torch.randn(5, 1, 3, 3)).shape == (5, 10)
    full = darts_supernet(16, 2, 10)  # 3N+2 cells: normal x2, reduce, normal, reduce, normal
    assert [c.reduction for c in full.cells] == [False, False, True, False, True, False]


def test_masks_and_genotype_round_trip():
    mask = full_mask()
    assert all(ops == frozenset(TENAS_DARTS_OPS) - {"none"} for cell in mask for ops in cell)
    assert "sep_conv_3x3" not in prune(mask, 1, 4, "sep_conv_3x3")[1][4]
    assert prune(mask, 0, 4)[0][4] == frozenset() and prune(mask, 0, 4)[1] == mask[1]
    assert mask_to_genotype(genotype_mask(GENOTYPE)) == GENOTYPE
    with pytest.raises(ValueError, match="node 1"):
        mask_to_genotype(prune(genotype_mask(GENOTYPE), 0, 2))


def test_per_edge_pruning_takes_the_lowest_rank_sums():
    # edge "a": ops x, y, z, w; dk ranks (desc) x0 y1 z2 w3, dR ranks (asc) w0 z1 y2 x3
    d_kappa = {("a", "x"): 0.4, ("a", "y"): 0.3, ("a", "z"): 0.2, ("a", "w"): 0.1}
    d_regions = {("a", "x"): 0.4, ("a", "y"): 0.3, ("a", "z"): -0.1, ("a", "w"): -0.2}
    # sums: x 0+3, y 1+2, z 2+1, w 3+0 -> all 3: order by dk position: x, y, z, w
    assert choose_prunes(d_kappa, d_regions, per_edge=3) == {"a": ["x", "y", "z"]}
    # dR ranks (asc) z0 w1 y2 x3 -> sums x 3, y 3, z 2, w 4
    d_regions = {("a", "x"): 0.9, ("a", "y"): 0.8, ("a", "z"): -0.5, ("a", "w"): 0.0}
    assert rank_sum_order(d_kappa, d_regions) == [("a", "z"), ("a", "x"), ("a", "y"), ("a", "w")]
    assert choose_prunes(d_kappa, d_regions) == {"a": "z"}
    assert choose_prunes(d_kappa, d_regions, per_edge=3) == {"a": ["z", "x", "y"]}


def test_node_groups_are_the_incoming_edges():
    assert [len(g) for g in NODE_EDGE_GROUPS] == [2, 3, 4, 5]
    assert all(EDGES[e][0] == n for n, g in enumerate(NODE_EDGE_GROUPS) for e in g)


WEIGHT = {
    "max_pool_3x3": 6.0,
    "avg_pool_3x3": 5.0,
    "skip_connect": 4.0,
    "dil_conv_5x5": 3.0,
    "dil_conv_3x3": 2.0,
    "sep_conv_5x5": 1.0,
    "sep_conv_3x3": 0.0,
}


def fake_kappa(net, x, *a, **k):
    """kappa falls with each op removed by its weight, and with each edge removed by 10x its
    input index: ops go in weight order, then the edges from the latest inputs go."""
    return 1.0 + sum(
        sum(WEIGHT[op] for op in ops) + (10.0 * EDGES[e][1] if ops else 0.0)
        for cell in net.mixer.mask.values()
        for e, ops in enumerate(cell)
    )


def run_stage(tmp_path: Path, monkeypatch, overrides=()):
    monkeypatch.setattr(darts_task, "training_pool", lambda data: random_image_pool())
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                "experiment=te-nas_darts-space_cifar10-jpeg_search",
                "logger=none",
                "device=cpu",
                "search.settings.ntk_batch_size=2",
                "search.settings.lr_samples_per_batch=10",
                "search.settings.lr_num_batches=1",
                *overrides,
            ],
        )
    return cfg, darts_task.run(cfg, RunLogger(cfg, tmp_path, []))


def test_pruning_follows_the_indicators_and_writes_the_retrain_artefact(
    tmp_path: Path, monkeypatch
):
    # Constant regions (every dR ties): two op rounds remove the three heaviest ops, then the
    # next three, leaving sep_conv_3x3; the edge phase keeps each node's two earliest inputs
    # (ties would keep the last two: TE-NAS prunes rankings_sum[:-2]).
    monkeypatch.setattr(search, "ntk_condition_number", fake_kappa)
    monkeypatch.setattr(search, "num_linear_regions", lambda *a, **k: 100)
    cfg, result = run_stage(tmp_path, monkeypatch, ["search.settings.repeat=1"])
    cell = [("sep_conv_3x3", 0), ("sep_conv_3x3", 1)] * 4
    expected = Genotype(
        normal=cell, normal_concat=[2, 3, 4, 5], reduce=cell, reduce_concat=[2, 3, 4, 5]
    )
    genotype = load_genotype(tmp_path / "genotype.json")
    assert genotype == expected
    assert result.diagnostics["found_archs"] == [str(expected)]
    assert result.metrics["params_m"] == [
        darts_task.cifar_params_m(expected, cfg.evaluation_network)
    ]
    history = json.loads((tmp_path / "pruning_history.json").read_text())[0]
    assert [r["phase"] for r in history] == ["ops", "ops"] + ["edges"] * 6
    assert [len(r["pruned"]) for r in history] == [84, 84, 1, 2, 3, 1, 2, 3]
    assert {p.split(":")[-1] for p in history[0]["pruned"]} == {
        "max_pool_3x3",
        "avg_pool_3x3",
        "skip_connect",
    }
    assert history[2]["pruned"] == ["normal:1<-2:sep_conv_3x3"]


def test_the_found_cell_size_is_counted_in_the_paper_network():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config", overrides=["experiment=te-nas_darts-space_cifar10-jpeg_search"]
        )
    # DARTS-V2 in the same network: 3.35 M (DARTS Table 1 gives 3.3 M)
    import reproductions  # noqa: F401  (registers the published cells)
    from common.spaces.darts.registry import GENOTYPES

    assert darts_task.cifar_params_m(
        GENOTYPES["DARTS_V2"], cfg.evaluation_network
    ) == pytest.approx(3.3493, abs=1e-3)


def test_measurements_are_paired_within_a_repeat():
    """A candidate identical to the unpruned supernet has deltas of exactly 0 (same batch,
    crops and weights); a real pruning does not."""
    rng = np.random.default_rng(0)
    pool = random_image_pool()
    s = darts_search.TeNasDartsSettings(
        repeat=2, ntk_batch_size=3, lr_samples_per_batch=20, lr_num_batches=1
    )
    ntk_net, lr_net = darts_search._networks(s, torch.device("cpu"))
    base = full_mask()
    candidates = {
        "same": base,
        "no_skip_anywhere": tuple(tuple(ops - {"skip_connect"} for ops in cell) for cell in base),
    }
    dk, dr, kappa, regions = search.measure_deltas(
        ntk_net, lr_net, pool, rng, s, base, candidates, torch.device("cpu")
    )
    assert dk["same"] == 0.0 and dr["same"] == 0.0
    assert dk["no_skip_anywhere"] != 0.0
    assert kappa > 1.0 and regions >= 1
