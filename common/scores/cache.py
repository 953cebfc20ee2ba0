"""A score cache: a training-free score is a function of (score and its settings, cell,
batch, weight-init seed), so a protocol that meets the same combination twice computes it
once. Persisted as JSON lines, one score per line, appended as each is computed: a killed
run keeps what it scored, and runs or experiments pointed at the same file share it.

Keys are strings the caller builds: ``score`` names the score and every setting that changes
its value (hooks, BN mode, network width, normalisation, image set); ``batch`` names the
images and the weight-init seed the network is built from. Lines with another ``score``
in the same file are kept but not loaded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path


class ScoreCache:
    """``(cell, batch) -> float`` for one ``score`` key; in memory only when ``path`` is None."""

    def __init__(self, score: str, path: str | Path | None = None) -> None:
        self.score = score
        self.path = None if path is None else Path(path)
        self.values: dict[tuple[str, str], float] = {}
        self.hits = self.misses = 0
        if self.path is not None and self.path.exists():
            for line in self.path.read_text().splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)  # a torn last line would fail here: one clear error
                if row["score"] == score:
                    self.values[(row["cell"], row["batch"])] = float(row["value"])

    def __len__(self) -> int:
        return len(self.values)

    def get_or_compute(self, cell: str, batch: str, compute: Callable[[], float]) -> float:
        """The cached value, or ``compute()`` stored (and appended to the file) first."""
        key = (cell, batch)
        if key in self.values:
            self.hits += 1
            return self.values[key]
        self.misses += 1
        value = float(compute())
        self.values[key] = value
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            row = {"score": self.score, "cell": cell, "batch": batch, "value": _plain(value)}
            with self.path.open("a") as f:
                f.write(json.dumps(row) + "\n")
        return value

    def stats(self) -> dict[str, int]:
        return {"cache_hits": self.hits, "cache_misses": self.misses, "cache_size": len(self)}


def _plain(value: float) -> float | str:
    """JSON has no infinities or NaN: a singular kernel's ``-inf`` is written as a string."""
    return value if math.isfinite(value) else str(value)
