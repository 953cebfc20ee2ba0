"""Resume in pieces (fast): a fit killed between epochs continues to the same weights, a
finished fit is skipped with its weights, metrics and random state, a repeated search skips
its finished runs, and a resume with another config is refused in one line."""

from __future__ import annotations

import json

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf

from common import resume
from common.data.digits import DigitsDataModule
from common.errors import NasReproError
from common.protocols.repeated import Found, repeated_search
from common.results.logging import RunLogger
from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network
from common.training import ClassifierModule, fit

pytest.importorskip("sklearn")

TRAINER = OmegaConf.create(
    {
        "accelerator": "cpu",
        "devices": 1,
        "enable_progress_bar": False,
        "limit_train_batches": 3,
        "limit_val_batches": 1,
        "limit_test_batches": 1,
        "num_sanity_val_steps": 0,
    }
)
ARCH = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|"


def run_logger(run_dir, resuming: bool) -> RunLogger:
    cfg = OmegaConf.create({"logger": {"csv": {"enabled": True}, "wandb": {"enabled": False}}})
    logger = RunLogger(cfg, run_dir, published_refs=[])
    resume.configure(logger, every_n_epochs=1, resume=resuming)
    return logger


def setup():
    """The same module and data in every run (seeded), as a stage would build them."""
    L.seed_everything(0, verbose=False)
    net = Nb201Network(Nb201Arch.parse(ARCH), 10, 1, channels=4, cells_per_stage=1)
    return ClassifierModule(net, max_epochs=3), DigitsDataModule(batch_size=32)


class KillAt(L.Callback):
    """Stops the fit when epoch ``epoch`` starts, as a kill after its checkpoint would."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.epoch:
            raise RuntimeError("killed")


def test_a_fit_stopped_between_epochs_resumes_to_the_same_weights(tmp_path):
    module, data = setup()
    ref = fit(module, data, TRAINER, 3, run_logger(tmp_path / "ref", False), test=True)
    ref_state = {k: v.clone() for k, v in module.state_dict().items()}

    module, data = setup()
    with pytest.raises(RuntimeError, match="killed"):
        fit(module, data, TRAINER, 3, run_logger(tmp_path / "b", False), callbacks=[KillAt(2)])
    fit_dir = tmp_path / "b" / "checkpoints" / "fit1"
    assert (fit_dir / "last.ckpt").is_file() and not (fit_dir / "done.pt").exists()

    module, data = setup()
    got = fit(module, data, TRAINER, 3, run_logger(tmp_path / "b", True), test=True)
    assert got == ref
    for key, value in ref_state.items():
        torch.testing.assert_close(module.state_dict()[key], value, rtol=0, atol=0)


def test_a_finished_fit_is_skipped_with_its_weights_metrics_and_random_state(tmp_path):
    module, data = setup()
    ref = fit(module, data, TRAINER, 3, run_logger(tmp_path, False), test=True)
    ref_state = {k: v.clone() for k, v in module.state_dict().items()}
    after = torch.rand(3)
    assert (tmp_path / "checkpoints" / "fit1" / "done.pt").is_file()

    class NeverTrains(L.Callback):
        def on_fit_start(self, trainer, pl_module):
            raise AssertionError("a finished fit was run again")

    module, data = setup()
    logger = run_logger(tmp_path, True)
    got = fit(module, data, TRAINER, 3, logger, test=True, callbacks=[NeverTrains()])
    assert got == ref
    assert torch.equal(torch.rand(3), after)  # the random state after the fit, restored
    for key, value in ref_state.items():
        assert torch.equal(module.state_dict()[key], value)
    assert logger.num_fits == 1  # the next fit keeps its folder number

    # a fit with another schedule is not "finished": it continues from the last checkpoint
    module, data = setup()
    fit(module, data, TRAINER, 4, run_logger(tmp_path, True), callbacks=[])
    state = torch.load(tmp_path / "checkpoints" / "fit1" / "last.ckpt", weights_only=True)
    assert state["epoch"] == 4


class UnitLogger:
    def __init__(self, run_dir) -> None:
        self.run_dir = run_dir

    def log(self, metrics, step) -> None:
        pass


def test_a_repeated_search_skips_the_runs_it_finished(tmp_path):
    calls = []

    def search(run, seed):
        calls.append(run)
        return Found(f"|cell{seed % 7}|", diagnostics={"seen": run}, details={"x": [run, 0.5]})

    def lookup(arch):
        return {"acc": float(arch[5]) / 3}

    logger = UnitLogger(tmp_path)
    resume.configure(logger, 1, resume=False)
    ref = repeated_search(search, lookup, num_runs=4, seed=2, logger=logger)
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 4
    # a kill during run 2: runs 0 and 1 written, run 2's line cut short
    (tmp_path / "runs.jsonl").write_text(lines[0] + "\n" + lines[1] + "\n" + lines[2][:20])

    calls.clear()
    logger = UnitLogger(tmp_path)
    resume.configure(logger, 1, resume=True)
    got = repeated_search(search, lookup, num_runs=4, seed=2, logger=logger)
    assert calls == [2, 3]
    assert got.record()["metrics"] == ref.record()["metrics"]
    assert got.record()["diagnostics"] == ref.record()["diagnostics"]
    assert got.search_s[:2] == ref.search_s[:2]
    assert got.details == ref.details
    rows = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert [r["run"] for r in rows] == [0, 1, 2, 3]

    calls.clear()  # a fresh run (not a resume) in the same folder starts over
    logger = UnitLogger(tmp_path)
    resume.configure(logger, 1, resume=False)
    repeated_search(search, lookup, num_runs=2, seed=2, logger=logger)
    assert calls == [0, 1]


def _saved_run(tmp_path, **overrides):
    cfg = OmegaConf.create(
        {
            "seed": 0,
            "resume": None,
            "torch_threads": None,
            "trainer": {"max_time": None, "devices": 1},
            "search": {"epochs": 8, "run_epochs": None},
            "data": {"seed": "${seed}"},
        }
    )
    (tmp_path / ".hydra").mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, tmp_path / ".hydra" / "config.yaml")
    now = OmegaConf.merge(cfg, {"resume": str(tmp_path)})
    for key, value in overrides.items():
        OmegaConf.update(now, key, value)
    return now


def test_a_resume_may_change_only_run_length_keys(tmp_path):
    now = _saved_run(
        tmp_path, torch_threads=2, **{"trainer.max_time": "00:01:00:00", "search.run_epochs": 4}
    )
    resume.check_resume(now, tmp_path)  # run-length keys only: accepted


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("seed", 1, "seed: 0 -> 1"),
        ("search.epochs", 50, "search.epochs: 8 -> 50"),
        ("trainer.devices", 2, "trainer.devices: 1 -> 2"),
        ("data.seed", 3, "data.seed: '${seed}' -> 3"),
    ],
)
def test_a_resume_with_another_config_is_refused_in_one_line(tmp_path, key, value, shown):
    now = _saved_run(tmp_path, **{key: value})
    with pytest.raises(NasReproError) as err:
        resume.check_resume(now, tmp_path)
    assert shown in str(err.value) and "\n" not in str(err.value)


def test_a_resume_of_a_folder_without_a_run_is_refused(tmp_path):
    now = OmegaConf.create({"resume": str(tmp_path / "nothing")})
    with pytest.raises(NasReproError, match="no run there"):
        resume.check_resume(now, tmp_path / "nothing")


class EpochLines(L.Callback):
    """Logs a line per epoch through the run's logger, as a search's architecture log does."""

    def __init__(self, logger: RunLogger, tag: str) -> None:
        self.logger, self.tag = logger, tag

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        weight = float(next(pl_module.parameters()).detach().sum())
        self.logger.log(
            {f"{self.tag}/weight_sum": weight, f"{self.tag}/tag": self.tag},
            step=trainer.current_epoch,
        )


def _two_fits(run_dir, resuming: bool, kill: L.Callback | None = None) -> dict:
    """A stage of two fits with a line logged between them; returns the second's metrics."""
    logger = run_logger(run_dir, resuming)
    module, data = setup()
    fit(module, data, TRAINER, 2, logger, callbacks=[EpochLines(logger, "a")])
    logger.log({"between": 1.0}, step=0)
    module, data = setup()
    callbacks = [EpochLines(logger, "b"), *([kill] if kill else [])]
    return fit(module, data, TRAINER, 3, logger, test=True, callbacks=callbacks)


def _rows(path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text().splitlines()]


def test_a_resumed_run_logs_what_an_uninterrupted_run_logs(tmp_path):
    """Fit 1 finished (skipped on resume), fit 2 killed after its second epoch's checkpoint
    (continued): the run's metrics.csv and each fit's Lightning CSV equal the uninterrupted
    run's, line for line, in the same order."""
    ref = _two_fits(tmp_path / "ref", False)
    with pytest.raises(RuntimeError, match="killed"):
        _two_fits(tmp_path / "b", False, KillAt(2))
    assert (tmp_path / "b" / "checkpoints" / "fit1" / "done.pt").is_file()
    assert not (tmp_path / "b" / "checkpoints" / "fit2" / "done.pt").exists()
    (tmp_path / "b" / "metrics.csv").rename(tmp_path / "b" / "metrics.before-resume1.csv")
    got = _two_fits(tmp_path / "b", True)  # the logger starts metrics.csv afresh, as a resume
    assert got == ref
    want = _rows(tmp_path / "ref" / "metrics.csv")
    assert [r[1] for r in want].count("a/weight_sum") == 2
    assert [r[1] for r in want].count("b/weight_sum") == 3
    assert _rows(tmp_path / "b" / "metrics.csv") == want
    for fit_dir in ("fit1", "fit2"):
        csv = f"lightning/{fit_dir}/metrics.csv"
        assert _rows(tmp_path / "b" / csv) == _rows(tmp_path / "ref" / csv), csv
