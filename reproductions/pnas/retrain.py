"""Paper-scale stages of the published models: ``retrain`` trains one on CIFAR-10 and
reports its test error (common/spaces/nasnet/retrain.py), ``sizes`` measures the published
models' parameters and multiply-adds (no training: seconds)."""

from __future__ import annotations

import time

import timm
from omegaconf import DictConfig, OmegaConf

import reproductions.pnas.models  # noqa: F401  (registers the timm models)
from common.results.record import RunResult
from common.spaces.nasnet import count_mult_adds, count_params, notation
from common.spaces.nasnet.retrain import retrain


def run(cfg: DictConfig, logger) -> RunResult:  # noqa: ANN001 - RunLogger
    import torch

    if cfg.get("torch_threads"):
        torch.set_num_threads(int(cfg.torch_threads))
    overrides = OmegaConf.to_container(cfg.retrain.model_kwargs, resolve=True) or {}
    net = timm.create_model(cfg.retrain.model, **overrides)
    return retrain(net, cfg, logger)


def sizes(cfg: DictConfig, logger) -> RunResult:  # noqa: ANN001 - RunLogger
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
