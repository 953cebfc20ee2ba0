"""The run seed reaches a search's data: split and shuffling follow ``seed`` through
``data.seed: ${seed}`` (conf/data), unless the experiment pins ``data.seed``; DARTS's
searches pin only ``data.split_seed`` (the paper's code fixes the split, not the order)."""

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from common.cli import CONF_DIR

SEARCH = (
    "darts-1st_nb201_cifar10-jpeg_search_reduced"  # a data-module search (25k/25k-style halves)
)


def first_batch(shared_data, *overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[f"experiment={SEARCH}", f"data_root={shared_data}", *overrides],
        )
    dm = instantiate(cfg.data)
    dm.setup()
    torch.manual_seed(0)  # the augmentation draws from torch's RNG: the same for every call
    x, y = next(iter(dm.train_dataloader()))
    return dm, x, y


@pytest.fixture(scope="module")
def seed0(shared_data):
    return first_batch(shared_data, "seed=0")


def test_seed_changes_the_data_order_of_a_search_but_not_its_pinned_split(seed0, shared_data):
    dm0, x0, y0 = seed0
    dm1, x1, y1 = first_batch(shared_data, "seed=1")
    assert dm0.seed == 0 and dm1.seed == 1 and dm0.split_seed == dm1.split_seed == 0
    assert list(dm0.train_set.indices) == list(dm1.train_set.indices)  # the same halves
    assert not torch.equal(y0, y1) and not torch.equal(x0, x1)  # in another order


def test_seed_changes_the_split_where_no_split_seed_is_pinned(seed0, shared_data):
    dm0, _, _ = seed0
    dm1, _, _ = first_batch(shared_data, "seed=1", "data.split_seed=null")
    assert dm1.split_seed == 1
    assert set(dm0.train_set.indices) != set(dm1.train_set.indices)  # other halves


def test_pinned_data_seed_keeps_the_data(seed0, shared_data):
    dm0, x0, y0 = seed0
    dm, x, y = first_batch(shared_data, "seed=1", "data.seed=0")
    assert dm.seed == 0
    assert list(dm.train_set.indices) == list(dm0.train_set.indices)
    assert torch.equal(y, y0) and torch.equal(x, x0)
