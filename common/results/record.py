"""Run records: one JSON file per run, the only input the leaderboard takes besides the
published records. A record says what was measured and under which conditions (config, seed,
commit, package versions, scale, data variant, protocol, wall-clock, device, peak memory).

``metrics`` holds final numbers only (a retrained network's test accuracy, a found
architecture's benchmark accuracy): lists of values, one per seed or per search run.
Anything else (a supernet's accuracy, a search signal) goes to ``diagnostics``, which the
leaderboard never shows as a result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from common.errors import NasReproError

RECORD_SCHEMA = 1
PACKAGES = ("torch", "torchvision", "lightning", "hydra-core", "timm", "wandb", "numpy", "nasrepro")


@dataclass
class RunResult:
    """What a stage function returns to the runner."""

    metrics: dict[str, list[float]]
    data_variant: str
    protocol: dict
    diagnostics: dict = field(default_factory=dict)
    cost: dict = field(default_factory=dict)  # e.g. simulated search seconds, queries, epochs


def git_state(repo: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout the code runs from; (None, None) outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        # results and prose do not change what runs: only code and config make a tree dirty
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)results",
                ":(exclude)*.md",
            ],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return commit, bool(dirty)
    except (OSError, subprocess.CalledProcessError):
        return None, None


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """The processor's model name from ``/proc/cpuinfo`` (Linux), or None where it has none.

    Two hosts that both report ``x86_64`` can differ twofold in speed, so a CPU cost is
    recorded with the model it was measured on.
    """
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return None


def device_description() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    arch = platform.processor() or platform.machine()
    model = cpu_model()
    name = f"{model} ({arch})" if model and model != arch else arch
    return f"cpu: {name}, {torch.get_num_threads()} threads ({os.cpu_count()} CPUs)"


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process (and GPU memory allocated by torch, if any)."""
    import torch

    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024**2  # ru_maxrss: KiB on Linux
    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale}
    if torch.cuda.is_available():
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def write_json_atomic(path: Path, payload: dict) -> None:
    """Write via a temporary file and rename, so no half-written record is ever visible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1, sort_keys=False, default=str)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """``write_json_atomic`` for text (the leaderboard, README blocks)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_figure_atomic(fig, path: Path) -> None:
    """``fig.savefig`` through a temporary file and a rename (PNG, no timestamp: the bytes
    depend on the data only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=100, metadata={"Software": None})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def results_lock(results_dir: Path):
    """An exclusive lock on ``results_dir`` (``flock`` on a lock file inside it), held while
    the leaderboard and its figures are regenerated."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    with open(results_dir / ".leaderboard.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def load_records(root: Path, withdrawn: bool = False) -> list[dict]:
    """The run records under ``root``: the valid ones, or (``withdrawn=True``) only those
    withdrawn by ``withdraw_record``, which stay on disk with their reason but count nowhere."""
    records = []
    for path in sorted(Path(root).rglob("*.json")):
        with open(path) as f:
            rec = json.load(f)
        if rec.get("schema") == RECORD_SCHEMA:
            if bool(rec.get("withdrawn")) != withdrawn:
                continue
            if rec.get("truncated_by"):
                raise NasReproError(
                    f"{path}: a run cut short by {', '.join(rec['truncated_by'])} is a check,"
                    " not a result; remove it from the results"
                )
            rec["_path"] = str(path)
            records.append(rec)
    return records


def read_json_input(key: str, path: str | Path, hint: str):
    """The JSON in the file ``key=path`` names (a stage's input), or one ``NasReproError`` line
    (no such file, not JSON) that gives ``hint``, what the key takes."""
    path = Path(str(path)).expanduser()
    if not path.is_file():
        raise NasReproError(f"{key}={path}: no such file; give {hint}")
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NasReproError(f"{key}={path}: not JSON ({e}); give {hint}") from e


def load_search_record(path: str | Path, paper: str, needs: str, what: str, hint: str) -> dict:
    """The run record at ``path`` of a ``paper`` search whose diagnostics hold ``needs`` (what a
    stage after the search reads); anything else is one ``NasReproError`` line that names
    ``what`` was expected and gives ``hint`` (a valid record)."""
    path = Path(str(path)).expanduser()
    record = read_json_input("search_record", path, hint)
    ok = isinstance(record, dict) and record.get("paper") == paper
    if not ok or record.get("stage") != "search" or needs not in (record.get("diagnostics") or {}):
        got = record.get("experiment") if isinstance(record, dict) else type(record).__name__
        raise NasReproError(f"search_record={path} is not {what} ({got!r}); give {hint}")
    return record


def withdraw_record(path: Path, reason: str) -> None:
    """Mark a record as withdrawn (its numbers are known to be wrong), keeping it for the
    audit trail; the leaderboard then lists it with ``reason`` instead of pooling it."""
    if not reason.strip():
        raise NasReproError("withdrawing a record needs a reason")
    with open(path) as f:
        rec = json.load(f)
    rec["withdrawn"] = {"reason": reason.strip(), "at": now_iso()}
    write_json_atomic(Path(path), rec)
