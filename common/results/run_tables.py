"""Per-run README tables from run records: one row per record, what ran where, and its numbers.

A row's "where, wall-clock" cell is composed from the record (threads and device, the CPU's
host as its device string names it, the memory layout, the ``K`` product by commit, the
wall-clock and seconds per search) and from the run notes (what else shared the host, a host
the record does not name). Cost groups pool the runs of one host and one code path, leaving
out the runs the notes leave out, for the per-host cost table and the ranges in the prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from common.results.prose import per_search, secs
from common.results.run_notes import RunNotes


def is_cuda(rec: dict) -> bool:
    return rec["device"].startswith("cuda")


def threads_label(rec: dict) -> str:
    """``H100`` for a CUDA record, ``1 CPU thread`` / ``2 CPU threads`` for a CPU one."""
    dev = rec["device"]
    if is_cuda(rec):
        words = dev.split(":", 1)[1].split(" x")[0].split()
        return words[1] if words[0] == "NVIDIA" and len(words) > 1 else " ".join(words)
    m = re.search(r"(\d+) threads", dev)
    n = int(m.group(1)) if m else rec.get("config", {}).get("torch_threads", 1)
    return f"{n} CPU thread{'s' if n > 1 else ''}"


def device_host(rec: dict) -> str | None:
    """The CPU model a record's device names (``AMD EPYC``, ``Intel Xeon``), or None."""
    m = re.match(r"cpu: (.+?) \((\w+)\),", rec["device"])
    if not m:
        return None
    model = re.sub(r"\((R|TM)\)| Processor\b| CPU\b.*", "", m.group(1))
    return " ".join(model.split()) or None


def host(rec: dict, notes: RunNotes) -> str | None:
    """The record's host: the notes' override where the device string does not name it."""
    return notes.run(rec["experiment"], rec["seed"]).get("host") or device_host(rec)


def layout(rec: dict) -> str:
    """``NHWC`` where the run used channels-last on the CPU, else ``NCHW``."""
    settings = rec.get("protocol", {}).get("settings", {})
    return "NHWC" if settings.get("channels_last_on_cpu") else "NCHW"


def score_definition(rec: dict) -> str | None:
    """Which ReLUs a NASWOT record's kernel counted: records from before the fix (no ``hooks``
    setting) read only ``nn.ReLU`` modules; the official code also counts every module whose
    type names ReLU (``ReLUConvBN``): reproductions/naswot/README.md, score fidelity."""
    settings = rec.get("protocol", {}).get("settings", {})
    if "train_mode" not in settings:  # not a NASWOT record
        return None
    hooks = settings.get("hooks", "relu_modules")
    return "official hooks" if hooks == "official" else "nn.ReLU hooks only (pre-fix score)"


def runs_of(rec: dict) -> int:
    return max(len(v) for v in rec["metrics"].values())


def where(rec: dict, notes: RunNotes) -> str:
    """``1 CPU thread (AMD EPYC host), NHWC, int8 K product, <shared>, 279 s``."""
    name = host(rec, notes)
    parts = [threads_label(rec) + (f" ({name} host)" if name else "")]
    if score_definition(rec):
        parts.append(score_definition(rec))
    if not is_cuda(rec):
        parts.append(layout(rec))
        if notes.kernel_product(rec) == "int8":
            parts.append("int8 K product")
    shared = notes.shared(rec["experiment"], rec["seed"])
    if shared:
        parts.append(shared)
    cost = rec["cost"]
    wall = f"{secs(cost['wall_clock_s'])} s"
    if runs_of(rec) > 1:
        wall += f" ({per_search(cost['search_s_per_run']['mean'])} s per search)"
    return ", ".join([*parts, wall])


def metric_cell(values: list[float]) -> str:
    """``92.85 ± 0.86`` (population std) over several runs, ``93.55`` for one."""
    v = np.asarray(values, dtype=np.float64)
    return f"{v.mean():.2f} ± {v.std():.2f}" if v.size > 1 else f"{v[0]:.2f}"


@dataclass
class CostGroup:
    """The runs of one experiment on one host with one ``K`` product, in seed order."""

    host: str | None
    kernel: str
    records: list[dict] = field(default_factory=list)
    out_of_range: list[dict] = field(default_factory=list)  # shared the host with extra load
    alone: list[dict] = field(default_factory=list)  # had the host to itself for part of it

    @property
    def seeds(self) -> list[int]:
        return sorted(r["seed"] for r in self.records)

    @property
    def in_range(self) -> list[dict]:
        gone = {id(r) for r in self.out_of_range + self.alone}
        return [r for r in self.records if id(r) not in gone]

    def wall(self) -> np.ndarray:
        """Wall-clock seconds of the runs in range (one search each)."""
        return np.array([r["cost"]["wall_clock_s"] for r in self.in_range])

    def bounds(self) -> tuple[float, float]:
        w = self.wall()
        return float(w.min()), float(w.max())


def cost_groups(records: list[dict], notes: RunNotes) -> list[CostGroup]:
    """Records grouped by (host, K product) in the order of their first seed; the runs the
    notes leave out of the cost table are not in any group."""
    groups: dict[tuple, CostGroup] = {}
    for rec in sorted(records, key=lambda r: r["seed"]):
        note = notes.run(rec["experiment"], rec["seed"])
        if note.get("in_cost_table") is False:
            continue
        key = (host(rec, notes), notes.kernel_product(rec))
        group = groups.setdefault(key, CostGroup(*key))
        group.records.append(rec)
        if "alone_from_s" in note:
            group.alone.append(rec)
        elif note.get("in_cost_range") is False:
            group.out_of_range.append(rec)
    return list(groups.values())


def loads(records: list[dict], notes: RunNotes) -> list[str]:
    """The kinds of extra load of these runs, in the order they first appear."""
    seen: dict[str, None] = {}
    for rec in sorted(records, key=lambda r: r["seed"]):
        for kind in notes.run(rec["experiment"], rec["seed"]).get("load") or []:
            seen[kind] = None
    return list(seen)
