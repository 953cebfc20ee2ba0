"""The NASNet-space child trainer: reproducible from its arguments alone (what ChildPool needs
to give the same result in any worker), scored on held-out training images, one layout per
argument kind, and picklable with its settings."""

import functools
import pickle

import pytest

from common.errors import NasReproError
from common.spaces.nasnet import Block, Cell
from common.spaces.nasnet.child import arch_key, build_network, child_seed, train_child
from common.spaces.nasnet.published import NASNET_A_NORMAL, NASNET_A_REDUCTION

ONE = Cell((Block(0, "sep_conv_3x3", 1, "max_pool_3x3"),), space="pnas")
TINY = dict(epochs=0.5, num_cells=3, num_conv_filters=4, stem_multiplier=1.0, downsample=4)


def data(root, **kw):
    return {
        "_target_": "common.data.cifar10_jpeg.CIFAR10JpegSmallDataModule",
        "root": str(root),
        "batch_size": 32,
        "seed": 0,
        "split": "train_val",
        "val_fraction": 0.25,
        "max_train_samples": 200,
        **kw,
    }


def test_layouts_and_keys() -> None:
    pair = (NASNET_A_NORMAL, NASNET_A_REDUCTION)
    assert build_network(ONE, 5, 8).config.layout == "pnas"
    assert build_network(pair, 3, 8).config.layout == "nasnet"
    assert arch_key(pair) != arch_key((NASNET_A_REDUCTION, NASNET_A_NORMAL))
    # argument order within a block does not make another architecture (canonical key)
    swapped = Cell((Block(1, "max_pool_3x3", 0, "sep_conv_3x3"),), space="pnas")
    assert arch_key(swapped) == arch_key(ONE) and child_seed(3, swapped) == child_seed(3, ONE)
    assert child_seed(3, ONE) != child_seed(4, ONE)
    with pytest.raises(NasReproError):
        build_network((ONE,), 3, 8)


def test_same_arguments_same_result_and_held_out_split(shared_file) -> None:
    root = shared_file("cifar10_yoongikim_jpegq75_small.npz").parent
    fn = functools.partial(train_child, data=data(root), seed=1, **TINY)
    fn = pickle.loads(pickle.dumps(fn))  # what a local or slurm worker receives
    a, b = fn(ONE), fn(ONE)
    assert a["reward"] == b["reward"] and a["train_loss"] == b["train_loss"]
    assert a["n_val"] == 50  # 25 % of the 200 training images, never the test split
    assert a["steps"] == 3  # half an epoch of 150 images in batches of 32
    other = train_child(ONE, data=data(root), seed=2, **TINY)
    assert other["seed"] != a["seed"]
    with pytest.raises(NasReproError, match="train_val"):
        train_child(ONE, data=data(root, split="search"), **TINY)
