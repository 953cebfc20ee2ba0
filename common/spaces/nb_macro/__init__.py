"""The NAS-Bench-Macro chain space: codes (``arch``) and the benchmark network (``model``); its
supernet is ``common.supernets.macro``."""

from common.spaces.nb_macro.arch import (
    NUM_ARCHS,
    NUM_LAYERS,
    OPS,
    STAGES,
    MacroArch,
    all_archs,
    distinct_archs,
)

__all__ = ["NUM_ARCHS", "NUM_LAYERS", "OPS", "STAGES", "MacroArch", "all_archs", "distinct_archs"]
