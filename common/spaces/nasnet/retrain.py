"""Retrain a NASNet-space network on its full training set and report its test error (NASNet
Table 1's metric; PNAS reuses NASNet's CIFAR recipe). ``run`` builds a published model by its
timm name and retrains it; ``sizes`` measures published models' parameters and multiply-adds
(seconds). ``reproductions/{nasnet,pnas}/retrain.py`` register their models and use both.

The schedule is ``common.training.darts_eval_module.DartsEvalModule`` (SGD with momentum,
single-period cosine, auxiliary loss, drop-path raised linearly over training = NASNet's
ScheduledDropPath, Sect. 4 / App. A.5) with the values of TF-slim ``nasnet.py``'s "Notes for
training NASNet Cifar Model" set in the experiment config. Deviations (README): the cosine is
stepped per epoch, the drop-path rate is not scaled by cell depth.
"""

from __future__ import annotations

import time

import lightning as L
import timm
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn

from common.results.logging import RunLogger
from common.results.record import RunResult
from common.spaces.nasnet.model import NASNetwork, count_mult_adds, count_params, notation
from common.speed import Speed
from common.training.darts_eval_module import DartsEvalModule
from common.training.fit import fit


class AuxView(nn.Module):
    """A ``NASNetwork`` seen as DartsEvalModule expects: ``forward`` gives logits,
    ``forward_with_aux`` gives ``(logits, aux or None)``, ``drop_path_prob`` is settable."""

    def __init__(self, net: NASNetwork) -> None:
        super().__init__()
        self.net = net
        self._drop = 0.0

    @property
    def drop_path_prob(self) -> float:
        return self._drop

    @drop_path_prob.setter
    def drop_path_prob(self, p: float) -> None:
        self._drop = float(p)
        self.net.set_drop_path(self._drop)

    def forward_with_aux(self, x: torch.Tensor):  # noqa: ANN201
        out = self.net(x)
        return out if isinstance(out, tuple) else (out, None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_aux(x)[0]


def retrain(net: NASNetwork, cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Train ``net`` with ``cfg.retrain`` on ``cfg.data`` and test it once at the end."""
    r = cfg.retrain
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    data = instantiate(cfg.data)
    module = DartsEvalModule(
        AuxView(net),
        lr=r.lr,
        momentum=r.momentum,
        weight_decay=r.weight_decay,
        max_epochs=int(r.epochs),
        auxiliary_weight=r.auxiliary_weight,
        drop_path_prob=r.drop_path_prob,
        speed=Speed.from_cfg(cfg.get("speed")),
    )
    trainer = {
        **OmegaConf.to_container(cfg.trainer, resolve=True),
        "gradient_clip_val": r.grad_clip,
    }
    metrics = fit(module, data, trainer, int(r.epochs), logger, test=True)
    return RunResult(
        metrics={
            "test_acc": [metrics["test/acc"]],
            "test_error": [100.0 - metrics["test/acc"]],
            "params_M": [count_params(net, aux=False) / 1e6],
        },
        data_variant=data.data_variant,
        protocol={
            "model": r.model,
            "notation": notation(net),
            "epochs": int(r.epochs),
            "final_metric": "test accuracy after the last epoch (no selection on test)",
        },
        diagnostics={"val_acc": metrics.get("val/acc")},
        cost={"params_with_aux": count_params(net, aux=True)},
    )


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    import torch

    if cfg.get("torch_threads"):
        torch.set_num_threads(int(cfg.torch_threads))
    overrides = OmegaConf.to_container(cfg.retrain.model_kwargs, resolve=True) or {}
    net = timm.create_model(cfg.retrain.model, **overrides)
    return retrain(net, cfg, logger)


def sizes(cfg: DictConfig, logger: RunLogger) -> RunResult:
    t0 = time.time()
    metrics, protocol = {}, {}
    for name, spec in cfg.sizes.items():
        net = timm.create_model(spec.model)
        metrics[f"params_M_{name}"] = [count_params(net, aux=False) / 1e6]
        protocol[name] = {"model": spec.model, "notation": notation(net)}
        if spec.get("mult_adds_at"):
            metrics[f"mult_adds_M_{name}"] = [count_mult_adds(net, int(spec.mult_adds_at)) / 1e6]
    return RunResult(
        metrics=metrics,
        data_variant="none (model sizes)",
        protocol={**protocol, "params": "without the auxiliary head"},
        cost={"wall_s": time.time() - t0},
    )
