"""Brief training: build the discrete network of an architecture, train it from scratch for a
few epochs with a Lightning Trainer, score it by its final validation accuracy.

This is how DARTS selects among its searches and how its random-search baseline ranks samples
(Liu et al., ICLR 2019, Sect. 3.3: candidates "trained from scratch for 100 epochs", best by
validation error); reduced-scale runs use the same code with fewer epochs. The cost is the
measured wall-clock of the training.

Evaluations are cached by the architecture's canonical string (``str(arch)`` for an NB-201
cell or a DARTS genotype), so no architecture is trained twice in one search: a repeated
architecture gets the first score back at no cost. Seeds are fixed per call: the ``n``-th call
(cached or not, counted from 0) trains with ``seed + n * seed_step`` set before the data module
and the network are built, so a run is reproducible whatever the search asks in between.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import lightning as L
from omegaconf import DictConfig

from common.evaluators.base import Evaluation, Evaluator
from common.results.logging import RunLogger
from common.training.fit import fit


class BriefTrainingEvaluator(Evaluator):
    """Score = ``metric`` (default ``val/acc``, in percent) after ``epochs`` of training.

    ``make_data()`` returns a fresh data module; ``make_module(arch, data)`` builds the network
    of ``arch`` for that data and wraps it in the training module. ``trainer`` holds the
    Lightning Trainer arguments (``cfg.trainer`` plus any extra such as
    ``gradient_clip_val``); ``max_epochs`` is set from ``epochs``.
    """

    kind = "brief-training"

    def __init__(
        self,
        make_data: Callable[[], L.LightningDataModule],
        make_module: Callable[[Any, L.LightningDataModule], L.LightningModule],
        trainer: Mapping[str, Any] | DictConfig,
        epochs: int,
        seed: int = 0,
        seed_step: int = 1,
        logger: RunLogger | None = None,
        metric: str = "val/acc",
        key: Callable[[Any], str] = str,
        budget_s: float = math.inf,
    ) -> None:
        super().__init__(budget_s)
        self.make_data = make_data
        self.make_module = make_module
        self.trainer = trainer
        self.epochs = epochs
        self.seed = seed
        self.seed_step = seed_step
        self.logger = logger
        self.metric = metric
        self.key = key
        self.cache: dict[str, Evaluation] = {}
        self.num_trained = 0

    def _evaluate(self, arch: Any) -> Evaluation:
        key = self.key(arch)
        seed = self.seed + self.num_evaluations * self.seed_step
        if key in self.cache:
            first = self.cache[key]
            return Evaluation(first.score, 0.0, {**first.info, "cached": True})
        start = time.perf_counter()
        L.seed_everything(seed, workers=True, verbose=False)
        data = self.make_data()
        module = self.make_module(arch, data)
        metrics = fit(module, data, self.trainer, self.epochs, self.logger)
        cost_s = time.perf_counter() - start
        info = {
            "arch": key,
            "seed": seed,
            "epochs": self.epochs,
            "metrics": metrics,
            "params_m": sum(p.numel() for p in module.parameters()) / 1e6,
            "data_variant": getattr(data, "data_variant", None),
            "cached": False,
        }
        result = Evaluation(metrics.get(self.metric, math.nan), cost_s, info)
        self.cache[key] = result
        self.num_trained += 1
        return result
