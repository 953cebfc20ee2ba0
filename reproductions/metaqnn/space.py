"""MetaQNN's state-action space (Baker, Gupta, Naik & Raskar, ICLR 2017, Sect. 4.1-4.2, Table 1).

A network is a path through a DAG of layer states. A state holds the layer just added (type
and parameters), its depth, the bin of the representation size after it ("R-size") and, for a
fully connected layer, how many FC layers came before. An action names the next layer; the
next state is that layer at depth + 1 with the bin the true size falls into, which is why a
pooling action may lead to two states (Sect. 4.1, Fig. A1).

Rules (Sect. 4.2 unless a bowenbaker/metaqnn @a25847f file is named):
- termination (SM, softmax) is allowed from every non-terminal state; a state at the maximum
  depth may only terminate;
- C -> C, P, FC, GAP, SM; P -> C, FC, GAP, SM (never P after P); the start state -> C, GAP, SM
  (no pooling first: ``allow_initial_pooling = False`` in models/*/state_space_parameters.py);
- a conv or pooling receptive field f must satisfy f <= the bin's size (8, 4 or 1);
- FC only from bins (8, 4] and (4, 1]; at most ``max_fc`` = 2 FC layers; FC(d) -> FC(d') only
  when d' <= d; FC -> FC or SM;
- GAP is, as in libs/grammar/state_enumerator.py, a layer whose only next action is SM: a 1x1
  conv to the classes, ReLU and global average pooling, then the softmax layer
  (libs/caffe/string_to_model.py). Table 1 calls both "termination states".

The bins are the code's ``image_size_bucket``: size > 7 -> 8, 4..7 -> 4, 1..3 -> 1. Sizes
change only at pooling (convolutions are SAME-padded, stride 1) and follow Caffe's max
pooling, ceil((n - f) / s) + 1, the network the search trains.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

from common.errors import NasReproError


class Layer(NamedTuple):
    """One layer of a MetaQNN network, written as in the paper: C(d,f,l), P(f,l), FC(d),
    GAP, SM(k). ``width`` is the filter count d (C), neuron count (FC) or class count (SM)."""

    kind: str  # "C", "P", "FC", "GAP", "SM"
    width: int = 0
    size: int = 0
    stride: int = 0

    def __str__(self) -> str:
        if self.kind == "C":
            return f"C({self.width},{self.size},{self.stride})"
        if self.kind == "P":
            return f"P({self.size},{self.stride})"
        if self.kind in ("FC", "SM"):
            return f"{self.kind}({self.width})"
        return "GAP"


START = Layer("start")


class State(NamedTuple):
    """A node of the state graph: ``layer`` added at ``depth`` (0 = the input), the R-size
    bin after it, and the number of FC layers in the path so far."""

    depth: int
    layer: Layer
    rbin: int
    num_fc: int = 0

    @property
    def terminal(self) -> bool:
        return self.layer.kind == "SM"


class Arch(tuple):
    """A network: the layers of a path, ending in SM. ``str`` is the paper's notation and the
    canonical key (a network sampled twice is the same string)."""

    def __str__(self) -> str:
        return "[" + ", ".join(str(layer) for layer in self) + "]"

    @classmethod
    def parse(cls, text: str) -> Arch:
        """The inverse of ``str``: "[C(64,3,1), P(2,2), SM(10)]" -> Arch."""
        layers = []
        for kind, args in re.findall(r"(C|P|FC|GAP|SM)(?:\(([\d,]*)\))?", text):
            nums = [int(a) for a in args.split(",")] if args else []
            if kind == "C":
                layers.append(Layer("C", nums[0], nums[1], nums[2]))
            elif kind == "P":
                layers.append(Layer("P", 0, nums[0], nums[1]))
            elif kind in ("FC", "SM"):
                layers.append(Layer(kind, nums[0]))
            else:
                layers.append(Layer("GAP"))
        if not layers or layers[-1].kind != "SM":
            raise NasReproError(f"not a MetaQNN network (must end in SM(k)): {text!r}")
        return cls(layers)


def rsize_bin(size: int) -> int:
    """The R-size bin of a true representation size (state_space_parameters.image_size_bucket)."""
    return 8 if size > 7 else 4 if size > 3 else 1


def pooled_size(size: int, f: int, s: int) -> int:
    """Caffe max pooling without padding: ceil((n - f) / s) + 1."""
    return math.ceil((size - f) / s) + 1


@dataclass(frozen=True)
class MetaQNNSpace:
    """The space's parameters; the defaults are Table 1's (CIFAR-10 raises ``max_depth`` to 18,
    Sect. 5). A reduced search changes the numbers, never the rules."""

    image_size: int = 32
    num_classes: int = 10
    max_depth: int = 12  # Table 1: layer depth < 12 (code: layer_limit = 12)
    conv_filters: tuple[int, ...] = (64, 128, 256, 512)  # Table 1
    conv_sizes: tuple[int, ...] = (1, 3, 5)  # Table 1
    pool_sizes: tuple[tuple[int, int], ...] = ((5, 3), (3, 2), (2, 2))  # Table 1 (f, l)
    fc_sizes: tuple[int, ...] = (512, 256, 128)  # Table 1
    max_fc: int = 2  # Sect. 4.2
    fc_max_bin: int = 4  # Sect. 4.2: only bins (8,4] and (4,1] may go to FC
    allow_initial_pooling: bool = False  # state_space_parameters.py
    allow_gap: bool = True

    def start(self) -> State:
        return State(0, START, rsize_bin(self.image_size))

    def actions(self, state: State) -> list[Layer]:
        """The layers that may follow ``state`` (termination first, then a fixed order)."""
        if state.terminal:
            return []
        out = [Layer("SM", self.num_classes)]
        kind = state.layer.kind
        if state.depth >= self.max_depth or kind == "GAP":
            return out
        if kind in ("start", "C", "P"):
            out += [
                Layer("C", d, f, 1)
                for d in self.conv_filters
                for f in self.conv_sizes
                if f <= state.rbin
            ]
            if self.allow_gap:
                out.append(Layer("GAP"))
        if kind == "C" or (kind == "start" and self.allow_initial_pooling):
            out += [Layer("P", 0, f, s) for f, s in self.pool_sizes if f <= state.rbin]
        if kind in ("start", "C", "P") and state.rbin <= self.fc_max_bin:
            out += [Layer("FC", d) for d in self.fc_sizes]
        if kind == "FC" and state.num_fc < self.max_fc:
            out += [Layer("FC", d) for d in self.fc_sizes if d <= state.layer.width]
        return out

    def step(self, state: State, size: int, layer: Layer) -> tuple[State, int]:
        """The state after adding ``layer`` to a path whose true representation size is
        ``size``, and the new true size."""
        if layer.kind == "P":
            size = pooled_size(size, layer.size, layer.stride)
        elif layer.kind == "GAP":
            size = 1
        num_fc = state.num_fc + (layer.kind == "FC")
        return State(state.depth + 1, layer, rsize_bin(size), num_fc), size

    def states(self, arch: Arch) -> list[State]:
        """The path of ``arch``: the start state, then one state per layer (the last is SM).
        Raises NasReproError if ``arch`` breaks a rule of the space."""
        state, size = self.start(), self.image_size
        path = [state]
        for layer in arch:
            if layer not in self.actions(state):
                raise NasReproError(f"{arch}: {layer} may not follow {state.layer} here")
            state, size = self.step(state, size, layer)
            path.append(state)
        if not path[-1].terminal:
            raise NasReproError(f"{arch}: a network must end in SM")
        return path
