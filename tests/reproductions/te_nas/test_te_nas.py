"""TE-NAS: its supernets' configuration (the mixture semantics are tested in
tests/common/supernets), the rank-sum pruning rule on hand-set deltas,
and one tiny search through the stage function."""

import json
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from common.cli import CONF_DIR
from common.results.logging import RunLogger
from common.spaces.nb201.arch import OPS, Nb201Arch
from reproductions.te_nas import search, task
from reproductions.te_nas.search import choose_prunes, dense_ranks
from reproductions.te_nas.supernet import full_mask, mask_to_arch, nb201_supernet, prune
from tests.reproductions.helpers import random_image_pool

ARCH = Nb201Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
)


def single_path(arch: Nb201Arch):
    return tuple(frozenset([op]) for op in arch.ops)


def test_masks():
    mask = full_mask()
    assert all(ops == frozenset(OPS) - {"none"} for ops in mask)
    assert "nor_conv_1x1" not in prune(mask, 2, "nor_conv_1x1")[2]
    assert mask_to_arch(single_path(ARCH)) == ARCH
    with pytest.raises(ValueError):
        mask_to_arch(mask)


def test_supernet_shapes():
    ntk_net = nb201_supernet(3, 1, 10)
    assert ntk_net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    thin = nb201_supernet(1, 1, 10, use_stem=False, depth=1)
    assert len(thin.cells) == 1 and thin(torch.randn(5, 1, 3, 3)).shape == (5, 10)


def test_dense_ranks_share_ranks_for_ties():
    ranks, order = dense_ranks({"a": 0.5, "b": 0.2, "c": 0.5, "d": 0.1}, descending=True)
    assert ranks == {"a": 0, "c": 0, "b": 1, "d": 2} and order == ["a", "c", "b", "d"]


def test_choose_prunes_by_rank_sum():
    # edge 0: op x has the largest kappa drop and the most negative region change -> pruned
    d_kappa = {(0, "x"): 0.3, (0, "y"): 0.1, (1, "x"): 0.2, (1, "y"): 0.2}
    d_regions = {(0, "x"): -0.2, (0, "y"): 0.1, (1, "x"): 0.0, (1, "y"): 0.0}
    # ranks: kappa x0:0, x1/y1:1, y0:2; regions x0:0, x1/y1:1, y0:2
    # sums: x0 0, y0 4, x1 2, y1 2 -> edge 1 is a tie, broken by the kappa order (x1 first)
    assert choose_prunes(d_kappa, d_regions) == {0: "x", 1: "x"}


WEIGHT = {"avg_pool_3x3": 3.0, "skip_connect": 2.0, "nor_conv_1x1": 1.0, "nor_conv_3x3": 0.0}


def fake_kappa(net, x, *a, **k):
    """kappa falls most when an avg-pool goes, then a skip, then a 1x1 conv."""
    return 1.0 + sum(WEIGHT[op] for ops in net.mixer.mask["cell"] for op in ops)


def run_stage(tmp_path, shared_file, monkeypatch, overrides):
    pool = random_image_pool(64, 8)
    monkeypatch.setattr(task, "training_pool", lambda data: pool)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                "experiment=te-nas_nb201_cifar10-jpeg_reduced",
                f"data_root={shared_file('nb201.csv.gz').parent}",
                "logger=none",
                "search.num_runs=1",
                *overrides,
            ],
        )
    return task.run(cfg, RunLogger(cfg, tmp_path, []))


def test_pruning_loop_follows_the_indicators(tmp_path: Path, shared_file, monkeypatch):
    # Constant regions (all dR tie) and a kappa that rewards removing pools, then skips,
    # then 1x1 convs: three rounds must leave a 3x3 conv on every edge.
    monkeypatch.setattr(search, "ntk_condition_number", fake_kappa)
    monkeypatch.setattr(search, "num_linear_regions", lambda *a, **k: 100)
    result = run_stage(tmp_path, shared_file, monkeypatch, ["search.settings.ntk_batch_size=2"])
    arch = Nb201Arch.parse(result.diagnostics["found_archs"][0])
    assert arch == Nb201Arch(("nor_conv_3x3",) * 6)
    assert result.diagnostics["kappa_trajectory"][0] == [1 + 6 * 6.0, 1 + 6 * 3.0, 1 + 6 * 1.0]
    history = json.loads((tmp_path / "pruning_history.json").read_text())[0]
    assert [set(r["pruned"].values()) for r in history] == [
        {"avg_pool_3x3"},
        {"skip_connect"},
        {"nor_conv_1x1"},
    ]
    assert set(result.metrics) == {
        "cifar10_valid",
        "cifar10_test",
        "cifar100_test",
        "imagenet16_test",
    }


@pytest.mark.slow
def test_tiny_search_with_real_indicators(tmp_path: Path, shared_file, monkeypatch, request):
    if "slow" not in request.config.getoption("markexpr", ""):
        pytest.skip("slow tier (about a minute on 2 CPU cores): run with -m slow")
    result = run_stage(
        tmp_path,
        shared_file,
        monkeypatch,
        [
            "search.settings.ntk_batch_size=3",
            "search.settings.lr_samples_per_batch=20",
            "search.settings.ntk_channels=2",
        ],
    )
    arch = Nb201Arch.parse(result.diagnostics["found_archs"][0])
    assert "none" not in arch.ops  # pruned before the first round
    assert len(result.diagnostics["kappa_trajectory"][0]) == 3  # 4 ops -> 1: three rounds
