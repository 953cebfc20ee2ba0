"""The NAS-Bench-201 cell search space: arch strings (``arch``) and the cell network (``model``);
its supernet is ``common.supernets.nb201``."""

from common.spaces.nb201.arch import EDGES, NUM_ARCHS, NUM_EDGES, OPS, Nb201Arch, all_archs

__all__ = ["EDGES", "NUM_ARCHS", "NUM_EDGES", "OPS", "Nb201Arch", "all_archs"]
