"""Supernet skeletons, one per search space, with pluggable edge mixers.

``nb201.Nb201Supernet`` (the NAS-Bench-201 cell space), ``darts.DartsSupernet`` (the
DARTS/NASNet 5-node cell space) and ``macro.MacroSupernet`` (NAS-Bench-Macro's 8-layer chain,
each layer one edge) hold every candidate op on every edge; a mixer from
``mixers`` decides what each edge computes: a softmax over architecture weights (DARTS), a
fixed or sampled mask (TE-NAS's pruning), a single path (SPOS, FairNAS, ENAS). A new
weight-sharing method adds a mixer, not a skeleton.
"""
