"""Training one NAS-RL child network (Zoph & Le, ICLR 2017, Sect. 4.1) and its reward.

``train_child(arch_spec, cfg)`` is a picklable top-level function: a child pool can run it in
another process or on another machine. Everything it needs is in its two arguments, and it
seeds itself from them (``cfg["seed"]`` and the architecture's canonical string), so the same
child trains to the same weights wherever it runs.

The paper's child training (all secondary: restated in third-party notes of the paper,
Sect. 4.1 "Training details"): 45,000 / 5,000 train / validation split of the CIFAR-10
training set; Nesterov momentum 0.9, learning rate 0.1, weight decay 1e-4, "the same as
Huang et al. (2016a)" (DenseNet: lr / 10 at 50% and 75% of training, used here); 50 epochs;
reward = the maximum validation accuracy of the last 5 epochs, cubed (the cube is applied by
the controller, ``controller.reward_of``). Data: the paper whitens, upsamples and takes a
random 32 x 32 crop, and flips; here per-channel standardisation, a padded random crop and a
flip (README, deviations). The test split is read only when ``evaluate_test`` is set, for
the one child a search has already selected by validation accuracy.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from common.data.cifar10_jpeg import (
    BYTES_FILE,
    SMALL_FILE,
    CIFAR10JpegDataModule,
    CIFAR10JpegSmallDataModule,
)
from common.data.splits import rng_for, stratified_split, stratified_subset
from common.errors import NasReproError
from reproductions.nas_rl.network import NasRlNet
from reproductions.nas_rl.space import NasRlArch

# CIFAR-10 train statistics as DARTS cnn/utils.py (the project's convention for this data)
MEAN = (0.49139968, 0.48215827, 0.44653124)
STD = (0.24703233, 0.24348505, 0.26158768)
STREAM_VAL = 11  # a split stream of its own (common.data.splits), fixed by cfg["split_seed"]

DEFAULTS: dict[str, Any] = {  # paper-scale values; a reduced run overrides some
    "data_file": BYTES_FILE,  # all 50,000 training images (JPEG copy)
    "n_train": None,  # None: every image not held out
    "n_val": 5000,  # Sect. 4.1: 5,000 validation images held out of the training set
    "split_seed": 0,
    "image_size": 32,  # CIFAR-10's; a reduced run may average-pool the images down
    "epochs": 50,  # Sect. 4.1: each child trained for 50 epochs
    "batch_size": 64,  # not given in the paper (DenseNet used 64)
    "lr": 0.1,  # Sect. 4.1 (secondary)
    "momentum": 0.9,  # Sect. 4.1 (secondary), Nesterov
    "weight_decay": 1.0e-4,  # Sect. 4.1 (secondary)
    "lr_drops": (0.5, 0.75),  # DenseNet (Huang et al.): lr / 10 at 50% and 75% of training
    "bn_eps": 1.0e-5,  # not given for the search's children (PyTorch's default)
    "reward_epochs": 5,  # reward: max validation accuracy of the last 5 epochs (secondary)
    "augment": True,
    "crop_padding": 4,
    "seed": 0,
    "torch_threads": None,  # None: as the caller set it (ChildPool's ``threads``)
    "device": "auto",  # auto: CUDA where there is one (paper scale), else CPU
    "evaluate_test": False,
}

_DATA: dict[tuple, dict[str, torch.Tensor]] = {}  # per process: loaded once, reused by children


def load_data(cfg: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Standardised train / validation (/ test) tensors of the configured split, cached in
    the process. Validation is a stratified hold-out of the training images."""
    key = tuple(cfg[k] for k in ("data_root", "data_file", "n_train", "n_val", "split_seed"))
    key += (cfg["image_size"],)
    if key in _DATA:
        return _DATA[key]
    modules = {BYTES_FILE: CIFAR10JpegDataModule, SMALL_FILE: CIFAR10JpegSmallDataModule}
    if cfg["data_file"] not in modules:
        raise NasReproError(f"child data_file must be one of {sorted(modules)}")
    raw = modules[cfg["data_file"]](root=cfg["data_root"])._load()
    x, y = raw.train_images, raw.train_labels
    x_test, y_test = raw.test_images, raw.test_labels
    kept, held = stratified_split(y, int(cfg["n_val"]), rng_for(cfg["split_seed"], STREAM_VAL))
    if cfg["n_train"] is not None:
        kept = kept[stratified_subset(y[kept], int(cfg["n_train"]), rng_for(cfg["split_seed"], 12))]

    def tensor(images: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
        t = (t - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]
        if cfg["image_size"] != t.shape[-1]:  # a reduced run's smaller images: area average
            t = F.adaptive_avg_pool2d(t, int(cfg["image_size"]))
        return t

    data = {
        "x_train": tensor(x[kept]),
        "y_train": torch.from_numpy(y[kept]),
        "x_val": tensor(x[held]),
        "y_val": torch.from_numpy(y[held]),
        "x_test": tensor(x_test),
        "y_test": torch.from_numpy(y_test),
    }
    _DATA[key] = data
    return data


def child_seed(arch: NasRlArch, seed: int) -> int:
    digest = hashlib.sha256(f"{seed}:{arch}".encode()).digest()
    return int.from_bytes(digest[:6], "little")


def augment(x: torch.Tensor, padding: int, gen: torch.Generator) -> torch.Tensor:
    """Random crop after zero padding, and a horizontal flip, each image on its own."""
    n, _, h, w = x.shape
    if padding:
        padded = F.pad(x, (padding,) * 4)
        dev = x.device
        dy = torch.randint(0, 2 * padding + 1, (n,), generator=gen, device=dev)
        dx = torch.randint(0, 2 * padding + 1, (n,), generator=gen, device=dev)
        rows = (dy[:, None] + torch.arange(h, device=dev))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=dev))[:, None, None, :]
        idx = torch.arange(n, device=dev)[:, None, None, None]
        chans = torch.arange(x.shape[1], device=dev)[None, :, None, None]
        x = padded[idx, chans, rows, cols]
    flip = torch.rand(n, generator=gen, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 500) -> float:
    net.eval()
    correct = sum(
        int((net(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum())
        for i in range(0, len(x), batch)
    )
    return 100.0 * correct / len(x)


def train_child(arch_spec: dict | NasRlArch, cfg: dict) -> dict[str, Any]:
    """Train the child of ``arch_spec`` (a ``NasRlArch`` or its ``to_spec``) with ``cfg``
    (``DEFAULTS`` plus ``data_root``); return its reward (validation accuracy in percent)
    and details."""
    start = time.perf_counter()
    cfg = {**DEFAULTS, **cfg}
    if cfg["torch_threads"]:
        torch.set_num_threads(int(cfg["torch_threads"]))
    arch = arch_spec if isinstance(arch_spec, NasRlArch) else NasRlArch.from_spec(arch_spec)
    device = cfg["device"]
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    data = {k: v.to(device) for k, v in load_data(cfg).items()}
    seed = child_seed(arch, int(cfg["seed"]))
    torch.manual_seed(seed)
    gen = torch.Generator(device).manual_seed(seed + 1)
    net = NasRlNet(arch, in_channels=3, num_classes=10, bn_eps=cfg["bn_eps"]).to(device)
    opt = torch.optim.SGD(
        net.parameters(),
        lr=cfg["lr"],
        momentum=cfg["momentum"],
        nesterov=True,
        weight_decay=cfg["weight_decay"],
    )
    epochs = int(cfg["epochs"])
    milestones = [round(f * epochs) for f in cfg["lr_drops"]]
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.1)
    x_tr, y_tr = data["x_train"], data["y_train"]
    bs = int(cfg["batch_size"])
    val_curve, losses = [], []
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(x_tr), generator=gen, device=device)
        total = 0.0
        for i in range(0, len(order), bs):
            idx = order[i : i + bs]
            xb = x_tr[idx]
            if cfg["augment"]:
                xb = augment(xb, int(cfg["crop_padding"]), gen)
            loss = F.cross_entropy(net(xb), y_tr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        sched.step()
        losses.append(total / len(order))
        val_curve.append(accuracy(net, data["x_val"], data["y_val"]))
    last = val_curve[-int(cfg["reward_epochs"]) :]
    out = {
        "reward": max(last),
        "val_acc_last": val_curve[-1],
        "val_curve": val_curve,
        "train_loss": losses[-1],
        "params": sum(p.numel() for p in net.parameters()),
        "seed": seed,
    }
    if cfg["evaluate_test"]:
        out["test_acc"] = accuracy(net, data["x_test"], data["y_test"])
    out["cost_s"] = time.perf_counter() - start
    return out
