"""Run ``nasrepro`` in a subprocess, kill it with SIGKILL when a file appears, resume it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "WANDB_MODE": "disabled",
        "WANDB_SILENT": "true",
        "HOME": str(tmp_path),
        "OMP_NUM_THREADS": "1",
    }


def cli(
    tmp_path: Path, *args: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "common.cli", *args, "torch_threads=1"],
        cwd=tmp_path,
        env={**_env(tmp_path), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_ok(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run to the end; return the record."""
    out = cli(tmp_path, *args, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    run_dir = Path(
        next(a for a in args if a.startswith(("hydra.run.dir=", "resume="))).split("=")[1]
    )
    return json.loads((tmp_path / run_dir / "record.json").read_text())


def lines_at_least(name: str, n: int):
    """A ``kill_when`` condition: the run folder's file ``name`` holds ``n`` lines or more."""

    def ready(run_dir: Path) -> list[Path]:
        path = run_dir / name
        return [path] if path.is_file() and len(path.read_text().splitlines()) >= n else []

    return ready


def kill_when(tmp_path: Path, run_dir: Path, pattern, *args: str, timeout: float = 300):
    """Start a run and SIGKILL it as soon as a file matching ``pattern`` exists in ``run_dir``
    (or ``pattern(run_dir)`` returns files), polled every 20 ms. Returns the files."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "common.cli", *args, "torch_threads=1"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    start = time.monotonic()
    try:

        def files() -> list[Path]:
            if callable(pattern):
                return pattern(tmp_path / run_dir)
            return sorted((tmp_path / run_dir).glob(pattern))

        while not (found := files()):
            if proc.poll() is not None:
                raise AssertionError(f"run ended before {pattern}: {proc.stderr.read()[-3000:]}")
            if time.monotonic() - start > timeout:
                raise AssertionError(f"no {pattern} after {timeout} s")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (tmp_path / run_dir / "record.json").exists()
    return found
