"""The NB-201 supernet TE-NAS prunes (Chen et al., ICLR 2021, Sect. 3.2; official code:
VITA-Group/TENAS @9df78ff, lib/models/cell_searchs/search_model_darts.py ``TinyNetworkDarts``
and search_cells.py ``NAS201SearchCell``), built on the shared skeleton
``common.supernets.nb201.Nb201Supernet`` with a ``MaskMixer``.

Every edge holds every candidate op; an edge's output is the mean of its *active* ops. This
is TE-NAS's DARTS-style mixture with architecture weights 0 for kept ops and -1000 for
pruned ones: the softmax gives each of the k kept ops 1/k (the mixer's ``scaled_sum``, each
op times 1/k, then summed, as the official code computes it), and ops with weight <= 0.01
are skipped (``w > 0.01 else 0``), so pruned ops are not computed at all. Without a stem the
input goes straight into the first cell.

TE-NAS uses two of these: C=3, N=1 with stem for the NTK (``model_config``) and C=1, N=1,
depth 1, no stem for linear regions on 1-channel 3x3 crops (``model_config_thin``).
"""

from __future__ import annotations

from functools import partial

from torch import nn

from common.spaces.nb201.arch import EDGES, OPS, Nb201Arch
from common.supernets.mixers import MaskMixer
from common.supernets.nb201 import Nb201Supernet

Mask = tuple[frozenset[str], ...]  # the active ops of each of the 6 edges, in EDGES order


def full_mask(exclude: tuple[str, ...] = ("none",)) -> Mask:
    """Every op active except ``exclude`` (TE-NAS sets ``alpha[:, 0] = -INF``: ``none`` is
    pruned before the first round)."""
    return tuple(frozenset(op for op in OPS if op not in exclude) for _ in EDGES)


def prune(mask: Mask, edge: int, op: str) -> Mask:
    return tuple(ops - {op} if e == edge else ops for e, ops in enumerate(mask))


def mask_to_arch(mask: Mask) -> Nb201Arch:
    if any(len(ops) != 1 for ops in mask):
        raise ValueError("only a single-path mask is an architecture")
    return Nb201Arch(tuple(next(iter(ops)) for ops in mask))


def nb201_supernet(
    channels: int,
    cells_per_stage: int,
    num_classes: int,
    use_stem: bool = True,
    depth: int | None = None,
    in_channels: int = 3,
) -> Nb201Supernet:
    """TE-NAS's NB-201 supernet: affine BN with running statistics, every op but ``none``
    active until ``set_mask``."""
    return Nb201Supernet(
        num_classes,
        mixer=partial(MaskMixer, reduction="scaled_sum"),
        in_channels=in_channels,
        channels=channels,
        cells_per_stage=cells_per_stage,
        use_stem=use_stem,
        depth=depth,
    )


def set_mask(net: nn.Module, mask: tuple) -> None:
    """Set a TE-NAS mask on either of its supernets: a per-edge mask on the NB-201 one, a
    (normal, reduce) pair on the DARTS-space one."""
    types = net.mixer.cell_types
    net.mixer.set_mask(
        {"cell": mask} if types == ("cell",) else dict(zip(types, mask, strict=True))
    )


def kaiming_normal_init(net: nn.Module, mode: str) -> None:
    """TE-NAS's intended init (``kaiming_normal_fanin_init`` / ``_fanout_init``): conv and
    linear weights Kaiming-normal for ReLU, biases 0, BN scale 1 and shift 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode=mode, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
