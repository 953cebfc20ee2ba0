"""ClassifierModule: a real short fit on sklearn's digits, and the optimizer/schedule it builds."""

from __future__ import annotations

import math

import lightning
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network
from common.training import ClassifierModule

# The best NB-201 cell on CIFAR-10 (index 13714 in the benchmark).
BEST = Nb201Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)


def digits_loaders(batch_size: int = 64) -> tuple[DataLoader, DataLoader]:
    """1,797 real 8x8 digits, standardized; a fixed 1,400 / 397 train / val split."""
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
    x = (x - x.mean()) / x.std()
    y = torch.tensor(digits.target, dtype=torch.long)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    train, val = perm[:1400], perm[1400:]
    return (
        DataLoader(TensorDataset(x[train], y[train]), batch_size=batch_size, shuffle=True),
        DataLoader(TensorDataset(x[val], y[val]), batch_size=256),
    )


class RecordLr(lightning.Callback):
    """The lr of the first param group after each training epoch."""

    def __init__(self) -> None:
        self.lrs: list[float] = []

    def on_train_epoch_end(self, trainer: lightning.Trainer, pl_module) -> None:
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])


def make_trainer(max_epochs: int, callbacks: list | None = None) -> lightning.Trainer:
    return lightning.Trainer(
        max_epochs=max_epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
    )


def test_fit_on_digits_learns_and_follows_the_cosine_schedule():
    lightning.seed_everything(0, verbose=False)
    train, val = digits_loaders()
    net = Nb201Network(BEST, 10, in_channels=1, channels=8, cells_per_stage=1)
    epochs, lr, lr_min = 4, 0.05, 0.005
    module = ClassifierModule(
        net, lr=lr, momentum=0.8, nesterov=True, weight_decay=1e-4, max_epochs=epochs, lr_min=lr_min
    )
    record = RecordLr()
    trainer = make_trainer(epochs, [record])
    trainer.fit(module, train, val)

    metrics = trainer.callback_metrics
    assert set(metrics) >= {"train/loss", "train/acc", "val/loss", "val/acc"}
    assert metrics["val/acc"] > 80.0  # chance is 10 %
    assert metrics["train/loss"] < math.log(10)

    (group,) = trainer.optimizers[0].param_groups
    assert isinstance(trainer.optimizers[0], torch.optim.SGD)
    assert (group["initial_lr"], group["momentum"], group["nesterov"]) == (lr, 0.8, True)
    assert group["weight_decay"] == 1e-4
    assert len(group["params"]) == len(list(net.parameters()))  # decay on every parameter
    (config,) = trainer.lr_scheduler_configs
    assert config.interval == "step"  # the NB-201 scheduler updates every iteration
    # After epoch e (of E), cos annealing stands at lr_min + (lr - lr_min)(1 + cos(pi e / E)) / 2.
    expected = [
        lr_min + (lr - lr_min) * (1 + math.cos(math.pi * (e + 1) / epochs)) / 2
        for e in range(epochs)
    ]
    assert record.lrs == pytest.approx(expected, rel=1e-6)
    assert record.lrs[-1] == pytest.approx(lr_min)

    (results,) = trainer.test(module, val, verbose=False)
    assert results["test/acc"] == pytest.approx(float(metrics["val/acc"]), abs=1e-4)
    assert results["test/loss"] == pytest.approx(float(metrics["val/loss"]), abs=1e-4)


def test_defaults_are_the_nb201_recipe_and_work_without_a_trainer():
    net = torch.nn.Linear(4, 3)
    module = ClassifierModule(net)
    config = module.configure_optimizers()
    optimizer, scheduler = config["optimizer"], config["lr_scheduler"]["scheduler"]
    (group,) = optimizer.param_groups
    assert (group["lr"], group["momentum"], group["nesterov"]) == (0.1, 0.9, True)
    assert group["weight_decay"] == 5e-4
    assert config["lr_scheduler"]["interval"] == "epoch"  # steps per epoch unknown here
    assert (scheduler.T_max, scheduler.eta_min) == (200, 0.0)
    assert module.criterion.label_smoothing == 0.0
    assert "net" not in module.hparams and module.hparams["max_epochs"] == 200


def test_label_smoothing_reaches_the_loss():
    module = ClassifierModule(torch.nn.Linear(4, 3), label_smoothing=0.1)
    logits, y = torch.tensor([[10.0, 0.0, 0.0]]), torch.tensor([0])
    assert module.criterion(logits, y) > torch.nn.functional.cross_entropy(logits, y) + 0.1
