"""Children trained in parallel: a batch of discrete architectures in, one result dict each out.

The searches that started the field sampled a network, trained it and learned from its
accuracy, with many children training at once (Zoph & Le, ICLR 2017, Sect. 3.3: 800 GPUs;
Baker et al., ICLR 2017, Sect. 4: 10 GPUs and a replay database of every trained network).
``ChildPool`` is that engine for this project:

- ``fn(arch) -> {"reward": float, ...}`` trains one child. It is a picklable callable (a
  top-level function, or ``functools.partial`` of one with plain-data arguments) and seeds
  itself from its arguments (a base seed plus a stable hash of the architecture), so a result
  does not depend on which worker ran it or in which order.
- Every child runs with ``threads`` torch threads, whatever the executor, so the in-process
  loop and the parallel workers compute the same floating-point sums.
- ``executor``: ``inline`` (a loop in this process), ``local`` (submitit's local executor:
  one subprocess per child, at most ``workers`` at a time) or ``slurm`` (submitit's SLURM
  executor with the ``slurm`` parameters, at most ``workers`` jobs in the queue at a time).
- A cache by ``key(arch)``: a child already trained is never trained again, and duplicates in
  one batch train once. A hit comes back with ``cached=True`` and ``cost_s=0`` (nothing was
  spent; ``trained_cost_s`` keeps what the first training cost). With ``cache_file`` every
  finished child is appended to a jsonl file as one line and the file is read back on start:
  MetaQNN's replay database, and a killed search resumes without retraining its children.

``map`` blocks until the whole batch is done, as the papers' controllers waited for a batch.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from common.errors import NasReproError, choices_error

EXECUTORS = ("inline", "local", "slurm")
# Keys of the ``slurm`` mapping that submitit's AutoExecutor takes as they are; any other key
# is a SLURM parameter and gets the ``slurm_`` prefix (partition -> slurm_partition).
GENERIC_SLURM_KEYS = (
    "timeout_min",
    "mem_gb",
    "cpus_per_task",
    "gpus_per_node",
    "nodes",
    "tasks_per_node",
    "name",
    "stderr_to_stdout",
)
POLL_S = 0.2


def run_child(fn: Callable[[Any], Mapping[str, Any]], arch: Any, threads: int | None) -> dict:
    """Train one child with ``threads`` torch threads (restored afterwards) and time it;
    ``threads=None`` leaves torch alone (and unimported, for a child that does not use it)."""
    previous = None
    if threads:
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
    try:
        start = time.perf_counter()
        result = dict(fn(arch))
        cost_s = time.perf_counter() - start
    finally:
        if previous is not None:
            torch.set_num_threads(previous)
    if "reward" not in result:
        raise NasReproError(f"a child function must return a 'reward'; got keys {sorted(result)}")
    result["reward"] = float(result["reward"])
    result["cost_s"] = cost_s
    return result


def slurm_parameters(slurm: Mapping[str, Any] | None, timeout_min: float) -> dict[str, Any]:
    """submitit AutoExecutor parameters from the config's ``slurm`` mapping (``time`` is read
    as minutes; ``partition``, ``account``, ... get the ``slurm_`` prefix)."""
    params: dict[str, Any] = {"timeout_min": timeout_min}
    for name, value in dict(slurm or {}).items():
        if value is None:
            continue
        if name == "time":
            params["timeout_min"] = value
        elif name in GENERIC_SLURM_KEYS or name.startswith("slurm_"):
            params[name] = value
        else:
            params[f"slurm_{name}"] = value
    return params


class ChildPool:
    """Parallel, cached evaluation of discrete children (see the module docstring)."""

    def __init__(
        self,
        fn: Callable[[Any], Mapping[str, Any]],
        key: Callable[[Any], str] = str,
        executor: str = "inline",
        workers: int = 1,
        folder: str | Path | None = None,
        cache_file: str | Path | None = None,
        slurm: Mapping[str, Any] | None = None,
        timeout_min: float = 60,
        threads: int | None = 1,
    ) -> None:
        if executor not in EXECUTORS:
            raise choices_error("child executor", executor, EXECUTORS)
        if workers < 1:
            raise NasReproError(f"children.workers must be at least 1, got {workers}")
        self.fn = fn
        self.key = key
        self.executor_name = executor
        self.workers = workers
        self.folder = Path(folder) if folder else None
        self.cache_file = Path(cache_file) if cache_file else None
        self.slurm = dict(slurm or {})
        self.timeout_min = timeout_min
        self.threads = threads
        self.cache: dict[str, dict] = {}
        self.num_trained = 0
        self._executor: Any = None
        if self.cache_file is not None:
            self.cache.update(read_cache(self.cache_file))
            end_torn_line(self.cache_file)

    def map(self, archs: Sequence[Any]) -> list[dict]:
        """One result per architecture, in order; trains each uncached key once."""
        keys = [self.key(a) for a in archs]
        todo: dict[str, Any] = {}
        for k, a in zip(keys, archs, strict=True):
            if k not in self.cache and k not in todo:
                todo[k] = a
        if todo:
            self._train(todo)
        fresh = set(todo)
        out = []
        for k in keys:
            stored = self.cache[k]
            if k in fresh:
                fresh.discard(k)  # the first occurrence in this batch paid for the training
                out.append({**stored, "cached": False})
            else:
                out.append(
                    {**stored, "cached": True, "cost_s": 0.0, "trained_cost_s": stored["cost_s"]}
                )
        return out

    def _train(self, todo: dict[str, Any]) -> None:
        if self.executor_name == "inline":
            for k, a in todo.items():
                self._store(k, a, run_child(self.fn, a, self.threads))
            return
        executor = self._get_executor()
        pending = list(todo.items())
        running: list[tuple[str, Any, Any]] = []
        try:
            while pending or running:
                while pending and len(running) < self.workers:
                    k, a = pending.pop(0)
                    running.append((k, a, executor.submit(run_child, self.fn, a, self.threads)))
                done = [r for r in running if r[2].done()]
                for r in done:
                    running.remove(r)
                    self._store(r[0], r[1], self._result(r[0], r[2]))
                if not done:
                    time.sleep(POLL_S)
        finally:
            for _, _, job in running:  # an error or an interrupt: leave no child behind
                job.cancel(check=False)

    def _result(self, key: str, job: Any) -> dict:
        try:
            return job.result()
        except Exception as err:  # submitit wraps the worker's traceback in its own error
            raise NasReproError(
                f"child {key!r} failed in job {job.job_id} (logs in {job.paths.folder}): "
                f"{str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__}"
            ) from err

    def _store(self, key: str, arch: Any, result: dict) -> None:
        self.cache[key] = result
        self.num_trained += 1
        if self.cache_file is not None:
            append_line(self.cache_file, {"key": key, "arch": str(arch), "result": result})

    def _get_executor(self) -> Any:
        if self._executor is not None:
            return self._executor
        import submitit

        folder = self.folder or Path(tempfile.mkdtemp(prefix="nasrepro-children-"))
        if self.executor_name == "local":
            ex = submitit.LocalExecutor(folder=folder)
            ex.update_parameters(timeout_min=self.timeout_min)
        else:
            ex = submitit.AutoExecutor(folder=folder, cluster="slurm")
            ex.update_parameters(**slurm_parameters(self.slurm, self.timeout_min))
        self._executor = ex
        return ex


def read_cache(path: Path) -> dict[str, dict]:
    """The results in a jsonl cache file by key; a torn last line (a kill mid-write) is skipped."""
    cache: dict[str, dict] = {}
    if not path.is_file():
        return cache
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and "key" in entry and "result" in entry:
            cache[entry["key"]] = entry["result"]
    return cache


def end_torn_line(path: Path) -> None:
    """End a last line that a kill cut short, so that the next append starts a line of its own."""
    if path.is_file() and path.stat().st_size:
        with path.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                append_bytes(path, b"\n")


def append_bytes(path: Path, data: bytes) -> None:
    """One ``write`` to a file opened for appending, flushed to disk before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def append_line(path: Path, entry: Mapping[str, Any]) -> None:
    """Append ``entry`` as one JSON line (one write: a kill leaves at most a torn last line)."""
    try:
        line = json.dumps(entry, sort_keys=True) + "\n"
    except TypeError as err:
        raise NasReproError(f"a child result must be JSON data to be cached: {err}") from err
    append_bytes(path, line.encode())
