"""The ImageNet data module on a tiny synthetic ImageFolder tree (a few JPEG/PNG files a class
written with PIL): the layout and its one-line errors, SPOS's per-class held-out split, the
official transforms (SPOS's BGR 0..255 pipeline, FairNAS's normalised one) and the config."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image
from torchvision import transforms

from common.data.imagenet import ImageNetDataModule, OpenCVResize, ToBGRTensor, per_class_holdout
from common.errors import NasReproError
from tests.common.data.imagenet_tree import WNIDS, write_tree

CONF = Path(__file__).resolve().parents[3] / "conf" / "data" / "imagenet.yaml"


def tiny(root: Path, **kwargs) -> ImageNetDataModule:
    tf = transforms.Compose([transforms.CenterCrop(16), ToBGRTensor()])
    args = dict(train_transform=tf, eval_transform=tf, batch_size=4, num_classes=3)
    return ImageNetDataModule(root, **{**args, **kwargs})


def test_a_missing_folder_names_the_expected_layout(tmp_path):
    with pytest.raises(NasReproError) as err:
        tiny(tmp_path / "nowhere").setup()
    message = str(err.value)
    assert "\n" not in message and "nowhere/train is missing" in message
    assert "train/<wnid>/*.JPEG" in message and "val/<wnid>/*.JPEG" in message


def test_unsorted_validation_images_and_class_mismatches_are_refused(tmp_path):
    root = write_tree(tmp_path / "a")
    for path in (root / "val").rglob("*.*"):  # the official val/ tarball: files, no folders
        path.rename(root / "val" / path.name)
    for path in (root / "val").iterdir():
        if path.is_dir():
            path.rmdir()
    with pytest.raises(NasReproError, match="val has no class folders with images"):
        tiny(root).setup()
    other = write_tree(tmp_path / "b")
    (other / "val" / WNIDS[0]).rename(other / "val" / "n99999999")
    with pytest.raises(NasReproError, match="differ from train/"):
        tiny(other).setup()
    with pytest.raises(NasReproError, match="expected data.num_classes=1000"):
        tiny(write_tree(tmp_path / "c"), num_classes=1000).setup()


def test_search_split_holds_out_exactly_val_per_class_of_every_class(tmp_path):
    root = write_tree(tmp_path)
    dm = tiny(root, split="search", val_per_class=2, seed=3)
    dm.setup()
    assert len(dm.train_set) == 12 and len(dm.val_set) == 6 and len(dm.test_set) == 6
    assert np.bincount(dm.val_set.labels).tolist() == [2, 2, 2]
    assert not set(dm.train_set.indices) & set(dm.val_set.indices)
    assert sorted([*dm.train_set.indices, *dm.val_set.indices]) == list(range(18))
    again = tiny(root, split="search", val_per_class=2, seed=3)
    again.setup()
    assert np.array_equal(again.val_set.indices, dm.val_set.indices)  # seeded
    other = tiny(root, split="search", val_per_class=2, seed=4, split_seed=3)
    other.setup()
    assert np.array_equal(other.val_set.indices, dm.val_set.indices)  # split_seed pins it
    x, y = next(iter(dm.val_dataloader()))
    assert x.dtype == torch.float32 and y.tolist() == sorted(y.tolist())  # unshuffled
    assert dm.num_classes == 3 and dm.classes == list(WNIDS)
    record = dm.record()
    assert (
        record["n_val"] == 6
        and record["val_per_class"] == 2
        and "ToBGRTensor" in record["train_transform"]
    )
    with pytest.raises(NasReproError, match="would leave none to train on"):
        tiny(root, split="search", val_per_class=6).setup()


def test_full_split_trains_on_everything_and_tests_on_the_official_val(tmp_path):
    dm = tiny(write_tree(tmp_path), split="full", max_eval_samples=3)
    dm.setup()
    assert len(dm.train_set) == 18 and dm.val_dataloader() == [] and len(dm.test_set) == 3
    assert all("/val/" in dm.test_set.samples[int(j)][0] for j in dm.test_set.indices)
    reduced = tiny(tmp_path, split="search", val_per_class=1, max_train_samples=6)
    reduced.setup()
    assert np.bincount(reduced.train_set.labels).tolist() == [2, 2, 2]
    assert len(reduced.val_set) == 3  # drawn before the reduction: does not depend on it


def test_fixed_loader_gives_the_same_images_every_pass(tmp_path):
    dm = tiny(write_tree(tmp_path), split="search", val_per_class=2)
    loader = dm.fixed_loader("val", num_batches=2, batch_size=2, seed=0)
    first = [(x.clone(), y.clone()) for x, y in loader]
    second = list(loader)
    assert len(first) == 2 and all(torch.equal(a[0], b[0]) for a, b in zip(first, second))
    with pytest.raises(NasReproError, match="no 'val' part"):
        tiny(tmp_path, split="full").fixed_loader("val", 1, 2, 0)


def test_per_class_holdout_is_exact_and_sorted():
    labels = np.repeat(np.arange(4), [5, 7, 9, 6])
    kept, held = per_class_holdout(labels, 3, np.random.default_rng(0))
    assert np.bincount(labels[held]).tolist() == [3, 3, 3, 3]
    assert np.all(np.diff(kept) > 0) and np.all(np.diff(held) > 0)


def test_spos_tensor_is_bgr_and_unnormalised():
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    t = ToBGRTensor()(Image.fromarray(rgb))
    assert t.shape == (3, 2, 3) and t.dtype == torch.float32
    assert t[2].eq(200).all() and t[:2].eq(0).all()  # red is the last channel, 0..255


def test_opencv_backend_without_opencv_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 raises ImportError
    with pytest.raises(NasReproError, match="pip install opencv-python-headless") as err:
        OpenCVResize(256, backend="opencv")
    assert "transforms.0.backend=torch" in str(err.value) and "\n" not in str(err.value)


def test_opencv_resize_follows_the_official_size_formula_and_matches_cv2():
    resize = OpenCVResize(256, backend="torch")
    assert resize.target_size(375, 500) == (256, 341)  # int(256 / 375 * 500 + 0.5)
    assert resize.target_size(500, 333) == (384, 256)  # int(256 / 333 * 500 + 0.5)
    assert resize.target_size(300, 300) == (256, 256)
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (123, 187, 3), dtype=np.uint8))
    out = resize(image)
    assert out.size == (389, 256)  # PIL: (width, height)
    cv2 = pytest.importorskip("cv2")
    ref = cv2.resize(np.asarray(image), (389, 256), interpolation=cv2.INTER_LINEAR)
    diff = np.abs(np.asarray(out).astype(int) - ref.astype(int))
    assert diff.max() <= 1  # OpenCV's fixed-point rounding against float interpolation


def test_config_builds_the_fairnas_pipeline_and_loads_a_batch(tmp_path):
    run = OmegaConf.create({"seed": 0, "data_root": str(tmp_path)})
    run.data = OmegaConf.load(CONF)
    write_tree(tmp_path / "imagenet")
    dm = instantiate(run.data, num_classes=3, num_workers=0, batch_size=2, eval_batch_size=2)
    assert isinstance(dm, ImageNetDataModule) and dm.split == "full" and dm.val_per_class == 50
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (2, 3, 224, 224) and x.min() < 0 < x.max()  # normalised
    x, _ = next(iter(dm.test_dataloader()))
    assert x.shape == (2, 3, 224, 224)
