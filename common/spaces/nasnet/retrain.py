"""Retrain a NASNet-space network on its full training set and report its test error (NASNet
Table 1's metric; PNAS reuses NASNet's CIFAR recipe). ``run`` builds a published model by its
timm name and retrains it; ``searched`` builds the architecture a search found (``genotype=``:
the search's record or its ``cell.json``, ``common.spaces.nasnet.found``) with the children's
builder (``child.build_network``) at ``retrain.num_cells`` x ``retrain.num_conv_filters`` and
retrains it; ``sizes`` measures published models' parameters and multiply-adds (seconds).
``reproductions/{nasnet,pnas}/retrain.py`` register their models and use all three.

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
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn

from common.errors import NasReproError
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.spaces.nasnet.child import build_network
from common.spaces.nasnet.found import LAYOUT_OF_SPACE, arch_text, load_found
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


def retrain(
    net: NASNetwork, cfg: DictConfig, logger: RunLogger, protocol: dict | None = None
) -> RunResult:
    """Train ``net`` with ``cfg.retrain`` on ``cfg.data`` and test it once at the end. With a
    held-out split (``data.val_fraction`` > 0) the last epoch's validation accuracy is recorded
    beside the test accuracy; nothing is selected on either."""
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
    val = {"val_acc": [metrics["val/acc"]]} if "val/acc" in metrics else {}
    return RunResult(
        metrics={
            "test_acc": [metrics["test/acc"]],
            "test_error": [100.0 - metrics["test/acc"]],
            **val,
            "params_M": [count_params(net, aux=False) / 1e6],
        },
        data_variant=data.data_variant,
        protocol={
            **(protocol or {"model": r.model}),
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


def searched(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Retrain the architecture ``cfg.genotype`` names (a search record or cell file of the
    ``retrain.space`` space), built at ``retrain.num_cells`` x ``retrain.num_conv_filters``."""
    import torch

    if cfg.get("torch_threads"):
        torch.set_num_threads(int(cfg.torch_threads))
    r = cfg.retrain
    arch, source = load_found(cfg.genotype, r.space, LAYOUT_OF_SPACE[r.space])
    wanted = r.get("search")  # an experiment named after one search takes only its cells
    if wanted and source.get("experiment") != wanted:
        raise NasReproError(
            f"genotype={cfg.genotype} comes from {source.get('experiment')!r}; experiment"
            f" {cfg.experiment_name!r} retrains the cell of {wanted!r} only (its record, or the"
            " cell.json of its run folder)"
        )
    data_cls = get_class(cfg.data._target_)  # class attributes: classes, size, channels
    net = build_network(
        arch,
        int(r.num_cells),
        int(r.num_conv_filters),
        stem_multiplier=float(r.stem_multiplier),
        use_aux_head=bool(r.use_aux_head),
        num_classes=data_cls.num_classes,
        image_size=data_cls.image_size,
        in_chans=data_cls.in_channels,
    )
    protocol = {
        "searched_cell": arch_text(arch),
        "source": source,
        "search": source.get("experiment"),
        "network": f"{r.space} layout, {r.num_cells} cells, {r.num_conv_filters} filters",
    }
    return retrain(net, cfg, logger, protocol)


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
