"""Speed options of a run: memory layout, graph compilation, precision, and which BatchNorm
a ``channels_last`` network runs on the CPU.

They change how the same computation is laid out and run, not what is computed: a run in
``channels_last`` computes the same function as one in the default layout (float tolerance);
``bf16`` autocast does not (its numerical effect is measured by the benchmark scripts, never
assumed). Every record states the options its run used (``cost.speed``), so no speed option
changes a canonical result silently.

    nasrepro experiment=<x> speed.memory_format=channels_last speed.compile=true speed.precision=bf16

``speed.batchnorm``: in ``channels_last`` every ``nn.BatchNorm2d`` becomes
``SummedBatchNorm2d`` (``summed``, the default): PyTorch's CPU kernel for that layout sums each
channel's statistics one value after another in float32, about ten times further from the
exact sums than the default layout's kernel (``common/training/batchnorm.py``). ``native``
keeps PyTorch's kernel: faster on the CPU, with that error. Either is recorded.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass

import torch
from torch import nn

from common.errors import NasReproError

MEMORY_FORMATS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16}
BATCHNORMS = ("summed", "native")


@dataclass(frozen=True)
class Speed:
    memory_format: str = "contiguous"  # contiguous (NCHW) | channels_last (NHWC)
    compile: bool = False  # torch.compile the trained network's forward
    precision: str = "fp32"  # fp32 | bf16 (autocast; weights and optimiser stay float32)
    batchnorm: str = "summed"  # summed | native: channels_last's BatchNorm (module docstring)

    def __post_init__(self) -> None:
        if self.memory_format not in MEMORY_FORMATS:
            raise NasReproError(
                f"speed.memory_format={self.memory_format}: valid: {', '.join(MEMORY_FORMATS)}"
            )
        if self.precision not in PRECISIONS:
            raise NasReproError(f"speed.precision={self.precision}: valid: {', '.join(PRECISIONS)}")
        if not isinstance(self.compile, bool):
            raise NasReproError(f"speed.compile={self.compile}: valid: true, false")
        if self.batchnorm not in BATCHNORMS:
            raise NasReproError(f"speed.batchnorm={self.batchnorm}: valid: {', '.join(BATCHNORMS)}")

    @classmethod
    def from_cfg(cls, node) -> Speed:
        """From a config's ``speed`` node (absent or null: the defaults)."""
        if node is None:
            return cls()
        keys = ("memory_format", "compile", "precision", "batchnorm")
        return cls(**{k: node[k] for k in keys if k in node})

    @property
    def layout(self) -> torch.memory_format:
        return MEMORY_FORMATS[self.memory_format]

    def module(self, net: nn.Module) -> nn.Module:
        """``net`` in this layout (in place, as ``nn.Module.to`` does); parameters keep their
        identity, so optimisers built before or after see the same tensors. In
        ``channels_last`` its BatchNorms become ``SummedBatchNorm2d`` unless
        ``batchnorm=native``: the CPU kernel for that layout sums in float32 one position
        after another (``common/training/batchnorm.py``)."""
        if self.memory_format != "contiguous":
            net.to(memory_format=self.layout)
            if self.batchnorm == "summed":
                from common.training.batchnorm import use_summed_batchnorm

                use_summed_batchnorm(net)
        return net

    def tensor(self, x: torch.Tensor) -> torch.Tensor:
        """An input batch in this layout (4-d tensors only; others unchanged)."""
        if self.memory_format != "contiguous" and x.dim() == 4:
            return x.contiguous(memory_format=self.layout)
        return x

    def autocast(self, device_type: str) -> contextlib.AbstractContextManager:
        """Autocast context for ``bf16``; a no-op for ``fp32``."""
        dtype = PRECISIONS[self.precision]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device_type, dtype=dtype)

    def record(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        """The options that differ from the defaults and take effect (``channels_last, native
        batchnorm, bf16, compiled``), or ``""``: what the leaderboard's cost column states
        beside a run's time."""
        parts = [self.memory_format] if self.memory_format != "contiguous" else []
        if parts and self.batchnorm != "summed":
            parts.append(f"{self.batchnorm} batchnorm")
        parts += [self.precision] if self.precision != "fp32" else []
        return ", ".join(parts + (["compiled"] if self.compile else []))


def sync(device: str) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously; the CPU does not)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def peak_mib(fn, device: str) -> float:
    """Peak MiB allocated while ``fn()`` runs, above what was allocated before it: CUDA's
    ``max_memory_allocated``; on the CPU the running sum of the torch profiler's allocation
    events (the benchmark scripts' memory column)."""
    from torch.profiler import ProfilerActivity, profile

    sync(device)
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        sync(device)
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    live = peak = 0
    for e in sorted(events, key=lambda e: e.start_ns()):
        live += e.nbytes()
        peak = max(peak, live)
    return peak / 2**20


def record_label(record: dict) -> str:
    """The speed label of a record (``""`` for records from before speed options existed:
    they ran with the defaults)."""
    return Speed(**record.get("cost", {}).get("speed", {})).label()
