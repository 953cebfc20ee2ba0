"""One MetaQNN child: a sampled network trained with the paper's quick proxy schedule, rewarded
with its best validation accuracy (Baker et al., ICLR 2017, Sect. 5; the values are in the
experiment configs, each with its source).

Sect. 5: Adam (beta1 0.9, beta2 0.999, eps 1e-8), batch 128, initial learning rate 1e-3, 20
epochs, learning rate x0.2 every 5 epochs; "if the model failed to perform better than a random
predictor after the first epoch, we reduced the learning rate by a factor of 0.4 and restarted
training, for a maximum of 5 restarts". The released code (models/*/hyper_parameters.py @a25847f)
adds weight decay 5e-4, counts as "better than random" a validation accuracy above 0.15, and
rewards the best validation accuracy over the epochs (``accuracy_best_val``).

``train_child`` is a top-level function of plain-data arguments, so that ``ChildPool`` can ship
it to a worker; it seeds itself from ``seed`` and the network's string (never from global
state), so a child gets the same accuracy in any worker and any order. The data are loaded once
per process as tensors (datasets without augmentation only: digits, Fashion-MNIST).
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import torch
from torch import nn

from reproductions.metaqnn.network import MetaQNNNet
from reproductions.metaqnn.space import Arch

_DATA: dict[str, tuple] = {}


def load_tensors(data: dict[str, Any]) -> tuple:
    """(x_train, y_train, x_val, y_val, x_test, y_test, module) of the data config ``data``
    (a ``_target_`` mapping), built once per process."""
    key = json.dumps(data, sort_keys=True)
    if key not in _DATA:
        from hydra.utils import instantiate

        dm = instantiate(data)
        dm.prepare_data()
        dm.setup()

        def stack(ds):
            xs, ys = zip(*(ds[i] for i in range(len(ds))), strict=True)
            return torch.stack(xs), torch.as_tensor(ys)

        _DATA[key] = (*stack(dm.train_set), *stack(dm.val_set), *stack(dm.test_set), dm)
    return _DATA[key]


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512) -> float:
    """Top-1 accuracy (fraction) in eval mode."""
    net.eval()
    correct = sum(
        int((net(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum())
        for i in range(0, len(y), batch)
    )
    return correct / len(y)


def child_seed(seed: int, arch: str) -> int:
    """A stable seed per (run seed, network): crc32 of the network string, never ``hash``."""
    return (seed * 1_000_003 + zlib.crc32(arch.encode())) % 2**31


def train_child(
    arch: str | Arch,
    data: dict[str, Any],
    epochs: int,
    seed: int = 0,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 5e-4,
    batch_size: int = 128,
    lr_step_epochs: int = 5,
    lr_gamma: float = 0.2,
    restart_factor: float = 0.4,
    max_restarts: int = 5,
    restart_threshold: float = 0.15,
    with_test: bool = False,
    with_probs: bool = False,
) -> dict[str, Any]:
    """Train ``arch`` and return {"reward": best val acc in %, ...}; ``with_test`` adds the test
    accuracy of the weights at the best validation epoch (for the selected child only);
    ``with_probs`` adds those weights' softmax outputs on the validation and test images
    (``val_probs``, ``test_probs``: lists of rows), which an ensemble averages."""
    arch = str(arch)  # the paper's notation: plain data for any worker
    x_tr, y_tr, x_val, y_val, x_te, y_te, dm = load_tensors(data)
    gen = torch.Generator().manual_seed(child_seed(seed, arch))
    torch.manual_seed(child_seed(seed, arch))
    for attempt in range(max_restarts + 1):
        net = MetaQNNNet(arch, dm.in_channels, dm.image_size, dm.num_classes)
        start_lr = lr * restart_factor**attempt
        opt = torch.optim.Adam(
            net.parameters(), lr=start_lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay
        )
        sched = torch.optim.lr_scheduler.StepLR(opt, lr_step_epochs, lr_gamma)
        curve, best, best_state = [], -1.0, None
        for epoch in range(epochs):
            net.train()
            for idx in torch.randperm(len(y_tr), generator=gen).split(batch_size):
                opt.zero_grad(set_to_none=True)
                nn.functional.cross_entropy(net(x_tr[idx]), y_tr[idx]).backward()
                opt.step()
            sched.step()
            curve.append(accuracy(net, x_val, y_val))
            if curve[-1] > best:
                best = curve[-1]
                best_state = (
                    {k: v.clone() for k, v in net.state_dict().items()}
                    if with_test or with_probs
                    else None
                )
            if epoch == 0 and curve[0] <= restart_threshold and attempt < max_restarts:
                break  # not learning: restart with a smaller learning rate
        else:
            break
    out = {
        "reward": 100.0 * best,
        "val_curve": [round(100.0 * a, 2) for a in curve],
        "restarts": attempt,
        "start_lr": start_lr,
        "params": sum(p.numel() for p in net.parameters()),
        "seed": child_seed(seed, arch),
    }
    if with_test or with_probs:
        net.load_state_dict(best_state)
    if with_test:
        out["test_acc"] = 100.0 * accuracy(net, x_te, y_te)
    if with_probs:
        out["val_probs"] = softmax_outputs(net, x_val).tolist()
        out["test_probs"] = softmax_outputs(net, x_te).tolist()
    return out


@torch.no_grad()
def softmax_outputs(net: nn.Module, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """Class probabilities (N x classes) in eval mode."""
    net.eval()
    return torch.cat([net(x[i : i + batch]).softmax(1) for i in range(0, len(x), batch)])
