"""Edge mixers: what each edge of a supernet computes from its candidate ops.

A supernet skeleton (``nb201.py``, ``darts.py``) holds every candidate op on every edge and
asks its mixer, once per forward and cell type, for that forward's state (``state``), then for
each edge ``mix(ops, x, edge, state)``: the edge's output, or ``None`` when the edge is off.
The mixer owns the architecture (its parameters or its mask), so one skeleton serves every
weight-sharing method:

- ``SoftmaxMixer``: ``sum_k softmax(alpha_e)_k * op_k(x)`` over all ops (DARTS, Liu et al.
  ICLR 2019, eq. 2), with trainable ``alpha`` per cell type.
- ``MaskMixer``: a fixed or sampled set of active ops per edge; only the active ops are
  computed (TE-NAS's pruned supernet, Chen et al. ICLR 2021; with one op per edge, the
  single-path supernets of SPOS, FairNAS and ENAS).
- Room for more: a mixer sees the ops and the input, so a Gumbel-softmax mixer (GDAS) returns
  a straight-through hard sample of one op, a partial-channel mixer (PC-DARTS) mixes a
  channel slice and shuffles, a binary-gate mixer (ProxylessNAS) samples paths with gates;
  none of them needs a change in a skeleton.

Ops are keyed by name in the skeleton's op order (``ops``), the columns of ``alpha``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

CellMask = tuple[frozenset[str], ...]  # the active ops of each edge of one cell type
REDUCTIONS = ("sum", "mean", "scaled_sum")


class EdgeMixer(nn.Module):
    """Base class. A skeleton builds its mixer last (after its weights, so a mixer's
    parameters never shift the weights' random initialisation) by calling the mixer class (or
    a ``functools.partial`` of it) with ``ops``, ``num_edges`` and ``cell_types``."""

    def __init__(self, ops: Sequence[str], num_edges: int, cell_types: Sequence[str]) -> None:
        super().__init__()
        self.ops = tuple(ops)
        self.num_edges = num_edges
        self.cell_types = tuple(cell_types)

    def state(self, cell_type: str) -> object:
        """What every edge of ``cell_type`` cells needs in this forward (computed once)."""
        raise NotImplementedError

    def mix(self, ops: nn.ModuleDict, x: torch.Tensor, edge: int, state: object):
        """The output of ``edge`` given its ``ops`` and input ``x``, or ``None`` if it is off."""
        raise NotImplementedError


class SoftmaxMixer(EdgeMixer):
    """DARTS's continuous relaxation: every op of every edge, weighted by the softmax of the
    edge's row of ``alphas[cell_type]`` (shape ``num_edges x len(ops)``, init ``1e-3 * randn``
    as the authors' code; App. A.1.1 says zeros, within 1e-3 of the same softmax).

    ``skip`` ops (``none``) are not evaluated: ``w * 0`` adds nothing to the output, and
    their weight still enters the softmax, so no output and no gradient changes. Every other
    op is evaluated even at weight 0 (its output is needed for the gradient of its weight, and
    its BN statistics update, as in the authors' code).
    """

    def __init__(
        self,
        ops: Sequence[str],
        num_edges: int,
        cell_types: Sequence[str],
        init_scale: float = 1e-3,
        skip: Sequence[str] = ("none",),
    ) -> None:
        super().__init__(ops, num_edges, cell_types)
        self.alphas = nn.ParameterDict(
            {
                t: nn.Parameter(init_scale * torch.randn(num_edges, len(self.ops)))
                for t in cell_types
            }
        )
        self.computed = tuple(k for k, op in enumerate(self.ops) if op not in skip)

    def state(self, cell_type: str) -> torch.Tensor:
        return F.softmax(self.alphas[cell_type], dim=-1)

    def mix(self, ops: nn.ModuleDict, x: torch.Tensor, edge: int, state: object) -> torch.Tensor:
        """The weighted sum, in fewer passes over the edge's activations than the authors'
        ``sum(w * op(x))`` (same value to float rounding): the ops that start with a ReLU
        share one ReLU of ``x`` (``relu_tail``), and each weight is multiplied in by the
        accumulating ``addcmul`` instead of a separate product and sum."""
        weights = state[edge]  # type: ignore[index]
        out = None
        relu_x = None
        for k in self.computed:
            op = ops[self.ops[k]]
            tail = relu_tail(op)
            if tail is None:
                y = op(x)
            else:
                if relu_x is None:
                    relu_x = F.relu(x)
                y = tail(relu_x)
            w = weights[k]
            out = w * y if out is None else torch.addcmul(out, w, y)
        return out


# Op modules whose ops with an ``op`` attribute compute exactly ``self.op(x)``.
_OP_IS_FORWARD = ("common.spaces.darts.ops", "common.spaces.nb201.ops")


def relu_tail(op: nn.Module):
    """``f`` if ``op(x)`` is ``f(relu(x))``, else ``None``: a DARTS or NB-201 conv op (forward
    ``self.op(x)``, ``op`` a ``Sequential`` led by a ReLU), or an op that says so with a
    ``forward_after_relu`` method (the DARTS ``FactorizedReduce``)."""
    seq = getattr(op, "op", None)
    if (
        type(op).__module__ in _OP_IS_FORWARD
        and isinstance(seq, nn.Sequential)
        and len(seq) > 1
        and type(seq[0]) is nn.ReLU
    ):
        return lambda x: _run_from(seq, x, 1)
    return getattr(op, "forward_after_relu", None)


def _run_from(seq: nn.Sequential, x: torch.Tensor, start: int) -> torch.Tensor:
    for i, module in enumerate(seq):
        if i >= start:
            x = module(x)
    return x


class MaskMixer(EdgeMixer):
    """A set of active ops per edge; only those are computed, the rest cost nothing.

    ``mask`` maps each cell type to one frozenset of op names per edge (an empty set turns the
    edge off). ``reduction`` combines an edge's active ops:

    - ``sum``: their sum (a discrete cell; with one op per edge, the single-path forward);
    - ``mean``: their sum divided by their number;
    - ``scaled_sum``: each op times ``1 / number`` then summed: TE-NAS's official mixture,
      softmax over alphas 0 (kept) and -1000 (pruned). Equal to ``mean`` up to rounding; both
      exist so that each committed TE-NAS result reruns bit for bit.

    The mask starts with every op active except ``none``.
    """

    def __init__(
        self,
        ops: Sequence[str],
        num_edges: int,
        cell_types: Sequence[str],
        reduction: str = "sum",
    ) -> None:
        super().__init__(ops, num_edges, cell_types)
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction
        full = tuple(frozenset(op for op in self.ops if op != "none") for _ in range(num_edges))
        self.mask: dict[str, CellMask] = {t: full for t in self.cell_types}

    def set_mask(self, mask: dict[str, CellMask]) -> None:
        """Replace the masks of the cell types given (each validated)."""
        for cell_type, cell in mask.items():
            if cell_type not in self.cell_types:
                raise ValueError(f"unknown cell type {cell_type!r}; valid: {self.cell_types}")
            if len(cell) != self.num_edges:
                raise ValueError(
                    f"a {cell_type} mask needs {self.num_edges} edges, got {len(cell)}"
                )
            unknown = set().union(*cell) - set(self.ops)
            if unknown:
                raise ValueError(f"unknown ops {sorted(unknown)}; valid: {self.ops}")
            self.mask[cell_type] = tuple(frozenset(ops) for ops in cell)

    def state(self, cell_type: str) -> CellMask:
        return self.mask[cell_type]

    def mix(self, ops: nn.ModuleDict, x: torch.Tensor, edge: int, state: object):
        kept = [op for op in self.ops if op in state[edge]]  # type: ignore[index]
        if not kept:
            return None
        weight = 1.0 / len(kept) if self.reduction == "scaled_sum" else None
        out = None
        for op in kept:  # starts from the first output: no `0 + x` add (same values as sum())
            term = ops[op](x) if weight is None else ops[op](x) * weight
            out = term if out is None else out + term
        return out / len(kept) if self.reduction == "mean" else out


class SinglePathMixer(MaskMixer):
    """A ``MaskMixer`` with at most one active op per edge: the single-path supernet of SPOS
    (Guo et al., ECCV 2020), FairNAS (Chu et al., ICCV 2021) and ENAS (Pham et al., ICML
    2018). ``sample`` draws each edge's op uniformly from ``choices`` (SPOS's uniform
    sampling); ``set_choice`` fixes one path, e.g. an architecture under evaluation (``None``
    turns an edge off, as the unchosen inputs of a DARTS/ENAS cell node)."""

    def __init__(
        self,
        ops: Sequence[str],
        num_edges: int,
        cell_types: Sequence[str],
        choices: Sequence[str] | None = None,
    ) -> None:
        super().__init__(ops, num_edges, cell_types, reduction="sum")
        self.choices = tuple(choices) if choices is not None else self.ops
        if set(self.choices) - set(self.ops):
            raise ValueError(f"choices {self.choices} must be among the ops {self.ops}")
        self.set_choice({t: (self.choices[0],) * num_edges for t in self.cell_types})

    def set_choice(self, choice: dict[str, Sequence[str | None]]) -> None:
        """One op name (or ``None``: edge off) per edge for each cell type given."""
        self.set_mask(
            {
                t: tuple(frozenset() if op is None else frozenset({op}) for op in ops)
                for t, ops in choice.items()
            }
        )

    def set_mask(self, mask: dict[str, CellMask]) -> None:
        if any(len(ops) > 1 for cell in mask.values() for ops in cell):
            raise ValueError("a single-path mask has at most one op per edge")
        super().set_mask(mask)

    def choice(self) -> dict[str, tuple[str | None, ...]]:
        return {t: tuple(next(iter(ops), None) for ops in m) for t, m in self.mask.items()}

    def sample(self, rng: random.Random) -> dict[str, tuple[str, ...]]:
        """Draw and set a uniformly random path; returns it."""
        choice = {
            t: tuple(rng.choice(self.choices) for _ in range(self.num_edges))
            for t in self.cell_types
        }
        self.set_choice(choice)
        return choice


def mix_chain(
    mixer: EdgeMixer, layers: nn.ModuleList, x: torch.Tensor, what: str, unit: str
) -> torch.Tensor:
    """A chain supernet's body: layer ``i`` is edge ``i`` of the one cell type ``"chain"``, its
    mixed output the next layer's input. A layer with no active op is an error (``what`` and
    ``unit`` name it: a chain has no other path around it)."""
    state = mixer.state("chain")
    for i, layer in enumerate(layers):
        out = mixer.mix(layer, x, i, state)
        if out is None:
            raise RuntimeError(f"{what} {i} has no active {unit}")
        x = out
    return x
