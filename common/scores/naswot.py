"""NASWOT score (Mellor, Turner, Storkey, Crowley, "Neural Architecture Search without
Training", ICML 2021, Sect. 3; official code: BayesWatch/nas-without-training @b3a82a6,
search.py and scores.py).

For a mini-batch of N inputs, each rectified unit gives a binary code ``c_i = [x_i > 0]`` per
input. The kernel ``K_H[i, j] = N_A - Hamming(c_i, c_j)`` counts the units on which inputs i
and j agree; the score is ``log |det K_H|``. A network that maps different inputs to
different activation patterns has a better-conditioned ``K_H`` and a higher score.

Which units count is the official code's, not the paper's prose (``hooks="official"``):
search.py hooks every module whose ``str(type(module))`` contains ``'ReLU'`` and reads the
sign of that module's *input* (``inp[0] > 0``) on each call. That string test matches
``nn.ReLU`` and also any wrapper whose class name contains ReLU: the NB-201 ``ReLUConvBN``
(every ``nor_conv_*`` edge and both convolutions of each residual block). Its input is the
input of the ReLU inside it, so each of those layers is counted twice, while the final
``lastact`` ReLU, the only bare ``nn.ReLU`` of the network, is counted once. That is why the
score of the project's first definition (``hooks="relu_modules"``: ``nn.ReLU``/``ReLU6``/
``LeakyReLU`` outputs only, each layer once) was 5-6% below the official one on NB-201
(about ``N log 2`` lower, since most units are in ``ReLUConvBN`` layers).

search.py also counts only modules with ``visited_backwards``: set by a (legacy) backward
hook during a backward pass of the logits run before the scoring forward pass. It excludes
exactly the modules whose output has no autograd path to the logits. In the NB-201 network
every module has one (the ``none`` op multiplies by zero, which keeps the graph), so by
default no backward pass is run; ``backward_check=True`` runs it as search.py does (tests
show both give the same kernel on NB-201, and differ on a network with a dead branch).

As in the official code the network runs in train mode (a freshly built module; BN
normalises with batch statistics) and no gradient is needed. ``K_H`` is accumulated layer by
layer: one ``N x N`` product per hooked call instead of holding all codes, in exact integer
arithmetic (int8 x int8 -> int32 on the CPU), so the kernel does not depend on how the
product is computed. A tensor fed to several hooked modules (a ``ReLUConvBN`` and the ReLU
inside it; a cell node read by several convolution edges) is multiplied once and its
agreements added once per call, which is what makes the doubled count free.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from common.errors import choices_error
from common.scores._util import RECTIFIERS, logits_of, module_mode

# Below this many units per layer the int8 product gains nothing; at one unit torch 2.x's CPU
# ``_int_mm`` returns uninitialised memory (tests/common/scores/test_naswot.py sweeps shapes).
_INT8_MIN_UNITS = 64

# "official": search.py's hooks (module type string contains 'ReLU'; input sign).
# "relu_modules": the project's definition before the fidelity fix (rectifier modules' outputs,
# each once); kept to replay the records made with it.
HOOKS = ("official", "relu_modules")


def agreements(codes: torch.Tensor, int8_product: bool = True) -> torch.Tensor:
    """``c c^T + (1-c)(1-c)^T`` of boolean codes (N x units): per pair of inputs, the units on
    which they agree, as an exact integer tensor.

    Uses ``2 c c^T - |c_i| - |c_j| + units``. On the CPU ``c c^T`` is an int8 x int8 -> int32
    product (``torch._int_mm``; exact, ~3x faster than float32 there); elsewhere, or for tiny
    layers, a float32 product, exact below 2**24 units per layer. ``int8_product=False``
    forces the float32 product (the benchmark's reference); both give the same integers.
    """
    n, units = codes.shape
    if int8_product and codes.device.type == "cpu" and units >= _INT8_MIN_UNITS:
        c8 = codes.contiguous().view(torch.int8)  # bool is one byte of 0/1: a free view
        both = torch._int_mm(c8, c8.T).to(torch.int64)
    else:
        c32 = codes.to(torch.float32)
        both = (c32 @ c32.T).to(torch.int64)
    ones = both.diagonal()  # |c_i| = (c c^T)_ii: no pass over the codes
    return 2 * both - ones[:, None] - ones[None, :] + units


def hooked_modules(net: nn.Module, hooks: str = "official") -> list[nn.Module]:
    """The modules whose codes enter ``K``: search.py's string test, or the rectifier types."""
    if hooks == "official":
        return [m for m in net.modules() if "ReLU" in str(type(m))]
    if hooks == "relu_modules":
        return [m for m in net.modules() if isinstance(m, RECTIFIERS)]
    raise choices_error("NASWOT hooks", hooks, HOOKS)


def _codes(t: torch.Tensor) -> torch.Tensor:
    """``t > 0`` as (N, units); an NHWC tensor is read through an NHWC view (no copy; ``K``
    ignores the order of the units)."""
    codes = t.detach() > 0
    if codes.dim() == 4 and codes.is_contiguous(memory_format=torch.channels_last):
        codes = codes.permute(0, 2, 3, 1)
    return codes.reshape(t.shape[0], -1)


@contextlib.contextmanager
def _hooks(modules: list[nn.Module], fn) -> Iterator[None]:
    handles = [m.register_forward_hook(fn) for m in modules]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _visited_backwards(net: nn.Module, inputs: torch.Tensor, modules: list[nn.Module]) -> set:
    """search.py's ``visited_backwards``: the modules whose output's ``grad_fn`` runs in a
    backward pass of ``sum(logits)`` (its ``get_batch_jacobian``; the legacy module backward
    hook registers on that ``grad_fn``). Train mode, as the caller set."""
    visited: set[int] = set()

    def mark(module: nn.Module, _inp, out) -> None:
        t = out
        while not isinstance(t, torch.Tensor):  # legacy hook: first tensor of the output
            t = next(iter(t.values())) if isinstance(t, dict) else t[0]
        if t.grad_fn is not None:
            t.grad_fn.register_hook(lambda *_a, key=id(module): visited.add(key))

    x = inputs.detach().clone().requires_grad_(True)
    with torch.enable_grad(), _hooks(modules, mark):
        y = logits_of(net(x))
        y.backward(torch.ones_like(y))
    net.zero_grad(set_to_none=True)
    return visited


def hamming_kernel(
    net: nn.Module,
    inputs: torch.Tensor,
    train_mode: bool = True,
    int8_product: bool = True,
    hooks: str = "official",
    backward_check: bool = False,
) -> np.ndarray:
    """``K_H`` (float64, N x N) of ``net`` on ``inputs``: agreements of the binary codes."""
    modules = hooked_modules(net, hooks)
    n = inputs.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.int64, device=inputs.device)
    # id(tensor) -> (weak reference, version, agreements): a tensor seen again unchanged is
    # not multiplied again. The weak reference keeps no activation alive past its use.
    seen: dict[int, tuple[weakref.ref, int, torch.Tensor]] = {}

    def add(t: torch.Tensor) -> None:
        nonlocal kernel
        hit = seen.get(id(t))
        if hit is not None and hit[0]() is t and hit[1] == t._version:
            kernel += hit[2]
            return
        a = agreements(_codes(t), int8_product)
        seen[id(t)] = (weakref.ref(t), t._version, a)
        kernel += a

    with module_mode(net, train_mode):
        counted = None
        if backward_check and hooks == "official":
            counted = _visited_backwards(net, inputs, modules)

        def on_call(module: nn.Module, inp, out) -> None:
            if counted is not None and id(module) not in counted:
                return
            if hooks == "official":
                add(inp[0] if isinstance(inp, tuple) else inp)
            else:
                add(out)

        with torch.no_grad(), _hooks(modules, on_call):
            net(inputs)
    return kernel.to(torch.float64).cpu().numpy()


def logdet_score(kernel: np.ndarray) -> float:
    """``log |det K|`` as the official ``hooklogdet`` (``slogdet``); ``-inf`` if singular."""
    _sign, logdet = np.linalg.slogdet(kernel)
    return float(logdet)


def naswot_score(
    net: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None = None,
    train_mode: bool = True,
    int8_product: bool = True,
    hooks: str = "official",
    backward_check: bool = False,
) -> float:
    """NASWOT score of ``net`` on one mini-batch (labels unused). Higher is better."""
    del targets  # label-free
    kernel = hamming_kernel(net, inputs, train_mode, int8_product, hooks, backward_check)
    return logdet_score(kernel)
