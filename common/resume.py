"""Resuming a killed run in place (``nasrepro experiment=<name> resume=<run dir>``).

A run that resumes must end exactly as it would have without the kill, so three things are
kept on disk as the run goes, and read back only when the runner says it resumes:

- every Lightning fit checkpoints ``checkpoints/fit<n>/last.ckpt`` (``common.training.fit``);
  a finished fit also writes ``done.pt`` (its metrics and the random state after it), so a
  stage of several fits (searches, then a retrain) skips the finished ones;
- loops that are not fits (``common.protocols.repeated``) append each finished unit to
  ``runs.jsonl`` and skip the units found there;
- the random state (Python, NumPy, torch, CUDA) travels with each of them, since data order,
  dropout and augmentation draw from it (``rng_state`` / ``set_rng_state``).

The run's config must be the one it started with (``config_differences``); only keys that say
how far or where a run goes, not what it computes (``RUN_LENGTH_KEYS``), may change.
Everything here is loaded with ``torch.load(weights_only=True)``: plain containers, numbers,
strings and tensors only.
"""

from __future__ import annotations

import os
import random
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from common.errors import NasReproError

# Keys a resume may change: where it runs and how long, never what it computes. A prefix
# ending in "." covers a whole group.
RUN_LENGTH_KEYS = (
    "resume",
    "torch_threads",
    "data_root",
    "checkpoint.",
    "logger.",
    "trainer.max_time",
    "trainer.max_steps",
    "trainer.limit_train_batches",
    "trainer.limit_val_batches",
    "trainer.limit_test_batches",
    "search.run_epochs",
)


@dataclass(frozen=True)
class Checkpointing:
    """How a run checkpoints: every ``every_n_epochs`` epochs (0: never), resuming or not."""

    every_n_epochs: int = 1
    resume: bool = False
    root: Path | None = None  # the run folder checkpoints live in (every rank reads it)


_SETTINGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def configure(logger: Any, every_n_epochs: int, resume: bool, root: Path | None = None) -> None:
    """Make the fits and loops of the run that logs to ``logger`` checkpoint (the runner
    calls this; a logger made elsewhere, e.g. in a test, checkpoints nothing) into ``root``
    (default: the logger's run folder; a data-parallel rank other than 0 logs elsewhere)."""
    _SETTINGS[logger] = Checkpointing(int(every_n_epochs), bool(resume), root)


def checkpoint_root(logger: Any) -> Path:
    s = settings(logger)
    return Path(s.root) if s is not None and s.root is not None else Path(logger.run_dir)


def settings(logger: Any) -> Checkpointing | None:
    try:
        return None if logger is None else _SETTINGS.get(logger)
    except TypeError:  # a stand-in logger (tests) that takes no weak reference
        return None


def resuming(logger: Any) -> bool:
    s = settings(logger)
    return bool(s and s.resume)


def resolve_run_dir(resume: Any, if_resume: Any, otherwise: Any) -> Any:
    """The ``nasrepro_resume`` resolver of conf/config.yaml: a resume runs in its own folder
    and keeps that folder's ``.hydra/config.yaml`` (the config to compare with)."""
    return if_resume if resume not in (None, "") else otherwise


def register_resolver() -> None:
    if not OmegaConf.has_resolver("nasrepro_resume"):
        OmegaConf.register_new_resolver("nasrepro_resume", resolve_run_dir)


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out if out or not prefix else {prefix[:-1]: {}}
    return {prefix[:-1]: node}


def _run_length(key: str) -> bool:
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in RUN_LENGTH_KEYS)


def config_differences(saved: DictConfig, cfg: DictConfig) -> list[str]:
    """``key: saved -> now`` for each key (interpolations unresolved) that differs, run-length
    keys left out."""
    old = _flat(OmegaConf.to_container(saved, resolve=False))
    new = _flat(OmegaConf.to_container(cfg, resolve=False))
    new.pop("hydra", None)
    out = []
    for key in sorted(set(old) | set(new)):
        if key.startswith("hydra.") or _run_length(key):
            continue
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if a != b:
            out.append(f"{key}: {a!r} -> {b!r}")
    return out


def check_resume(cfg: DictConfig, run_dir: Path) -> None:
    """Refuse, in one line, a resume of a folder that is not this run's, or with another
    config."""
    given = Path(str(cfg.resume))
    saved = given / ".hydra" / "config.yaml"
    if not saved.is_file():
        raise NasReproError(
            f"resume={cfg.resume}: no run there ({saved} is missing); give the folder of a run"
            " that nasrepro started (outputs/<experiment>/<seed_time>)"
        )
    if given.resolve() != Path(run_dir).resolve():
        raise NasReproError(
            f"resume={cfg.resume} runs in that folder: drop hydra.run.dir={run_dir}"
        )
    diffs = config_differences(OmegaConf.load(saved), cfg)
    if diffs:
        shown = "; ".join(diffs[:3]) + (f"; and {len(diffs) - 3} more" if len(diffs) > 3 else "")
        raise NasReproError(
            f"resume={cfg.resume}: the config differs from the run's ({shown}); resume with"
            " the run's own overrides (only run-length keys may change:"
            f" {', '.join(k.rstrip('.') for k in RUN_LENGTH_KEYS if k != 'resume')})"
        )


def rng_state() -> dict[str, Any]:
    """Python's, NumPy's and torch's (CPU and CUDA) global random state, as tensors and
    plain containers (loadable with weights_only=True)."""
    import torch

    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [str(kind), torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import torch

    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_atomic(obj: Any, path: Path) -> None:
    """``torch.save`` through a temporary file: a kill never leaves half a file."""
    import torch

    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def plain(value: Any) -> Any:
    """``value`` with OmegaConf containers, tuples and NumPy scalars made plain, and any
    other object replaced by its repr (what a weights_only load accepts)."""
    import torch

    if isinstance(value, DictConfig) or OmegaConf.is_config(value):
        value = OmegaConf.to_container(value, resolve=True)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str | torch.Tensor):
        return value
    return repr(value)
