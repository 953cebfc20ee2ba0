"""The NAS-Bench-201 protocol for query-based searches (Dong & Yang, ICLR 2020, Sect. 5), and
the stage function of every experiment that follows it (RS, REA, REINFORCE, ...).

A search sees only a ``TableEvaluator``: the 12-epoch validation accuracy of an architecture
on ``cifar10-valid`` and the simulated time that training would have cost, within a budget of
12,000 s. The architecture it returns is then looked up, uncounted, in the 200-epoch results
on all three datasets. Repeating this ``num_runs`` times (``common.protocols.repeated``) gives
the mean +- std that the NB-201 paper reports for RS, REA and REINFORCE.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from common.benchmarks.nb201 import Nb201Benchmark
from common.evaluators.base import Evaluator
from common.evaluators.table import TableEvaluator
from common.protocols.repeated import Found, Runs, repeated_search
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.spaces.nb201.arch import Nb201Arch

SearchFn = Callable[[Evaluator, random.Random], Nb201Arch]
FINAL_METRIC_SOURCE = "NB-201 table, 200 epochs, mean over the benchmark's seeds"


@dataclass(frozen=True)
class Nb201Protocol:
    """What a search optimises, what it may spend, and what is reported (all recorded)."""

    signal: str = "cifar10_valid_12ep"
    time_column: str = "cifar10valid_train_time_s"
    time_scale: float = 0.06  # 12 of 200 epochs: the table stores the 200-epoch training time
    time_budget_s: float = 12000.0
    num_runs: int = 500
    report_columns: tuple[str, ...] = (
        "cifar10_valid",
        "cifar10_test",
        "cifar100_test",
        "imagenet16_test",
    )
    selection: str = "highest search signal among the queried architectures"

    def as_record(self) -> dict:
        return {**asdict(self), "report_columns": list(self.report_columns)}

    def evaluator(self, bench: Nb201Benchmark) -> TableEvaluator:
        """A fresh budget for one search run."""
        session = bench.session(self.signal, self.time_column, self.time_scale, self.time_budget_s)
        return TableEvaluator(session)


def table_metrics(
    bench: Nb201Benchmark, columns: Sequence[str]
) -> Callable[[Nb201Arch], dict[str, float]]:
    """The final metrics of a found cell: its table values in ``columns``, uncounted."""
    columns = list(columns)
    return lambda arch: {c: bench.value(arch, c) for c in columns}


def run_protocol(
    search: SearchFn,
    bench: Nb201Benchmark,
    protocol: Nb201Protocol,
    seed: int,
    logger: RunLogger | None = None,
) -> Runs:
    """``protocol.num_runs`` independent searches, each asking its own ``TableEvaluator``."""

    def one(run: int, run_seed: int) -> Found:
        evaluator = protocol.evaluator(bench)
        best = search(evaluator, random.Random(run_seed))
        if evaluator.num_evaluations == 0:
            raise RuntimeError("search returned an architecture without querying any")
        return Found(
            best,
            diagnostics={"num_queries": evaluator.num_evaluations},
            cost={"simulated_search_s": evaluator.spent_s},
        )

    metrics = table_metrics(bench, protocol.report_columns)
    return repeated_search(one, metrics, protocol.num_runs, seed, logger, desc="NB-201 searches")


def run(cfg: DictConfig, logger: RunLogger) -> RunResult:
    """Stage function: ``cfg.search`` is a partial of the search function, ``cfg.protocol``
    the NB-201 protocol, ``cfg.benchmark`` the table."""
    bench = instantiate(cfg.benchmark)
    protocol = Nb201Protocol(**OmegaConf.to_container(cfg.protocol, resolve=True))
    runs = run_protocol(instantiate(cfg.search), bench, protocol, cfg.seed, logger)
    shared = runs.record()
    queries = sum(runs.diagnostics["num_queries"])
    return RunResult(
        metrics=shared["metrics"],
        data_variant=f"{cfg.benchmark.variant} (200-epoch results; search on cifar10-valid)",
        protocol={
            **protocol.as_record(),
            **shared["protocol"],
            "final_metric_source": FINAL_METRIC_SOURCE,
            "search_hyperparameters": {
                k: v for k, v in OmegaConf.to_container(cfg.search).items() if k != "_partial_"
            },
        },
        diagnostics=shared["diagnostics"],
        cost={
            **shared["cost"],
            "queries_total": int(queries),
            "queries_per_s": float(queries / max(shared["cost"]["search_s_total"], 1e-9)),
        },
    )
