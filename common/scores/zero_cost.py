"""Zero-cost proxies (Abdelfattah, Mehrotra, Dudziak, Lane, "Zero-Cost Proxies for
Lightweight NAS", ICLR 2021, Sect. 3; official code: SamsungLabs/zero-cost-nas @a43bfbc,
foresight/pruners/measures/*.py, summed by predictive.py ``find_measures``).

Each proxy scores a network at initialisation from one mini-batch; higher is better for all
six with the official signs. Conventions kept from the official code:

- every proxy runs on a copy of the network in train mode (``get_prunable_copy`` calls
  ``train()``), so BN uses batch statistics; the caller's network is left untouched;
- per-weight saliencies are taken over conv and linear weights only and summed;
- ``grad_norm``: sum over layers of the L2 norm of the loss gradient (not the global norm);
- ``snip``: sum |w * dL/dw| (= |dL/d mask| at mask = 1);
- ``grasp``: sum -w * (H g) with g = dL/dw; the minus sign is the official one ("accuracy
  seems to be negatively correlated with this metric, so we add -ve sign");
- ``fisher``: per output channel, 0.5 * mean_n (sum_spatial a * dL/da)^2 with a the layer's
  output, then broadcast to every weight of that channel, so a channel counts fan-in times
  (``reshape_elements``), and summed;
- ``jacob_cov``: J = d(sum of logits)/d(input) per sample, C = corrcoef(J), score
  -sum(log(v + k) + 1/(v + k)) over the eigenvalues v of C, k = 1e-5; NaN where C is undefined;
- ``synflow``: BN removed, every parameter and buffer replaced by its absolute value, the
  network in float64 (the official ``net.double()``: products over ~50 layers overflow float32)
  fed one all-ones input; sum |w * dR/dw| with R the sum of the outputs. Data-independent:
  only the input's shape is used.

All proxies run with TF32 off on GPUs (``full_fp32``), as on the GPUs the authors used.

``snip``, ``grad_norm``, ``fisher`` and ``grasp`` share one forward and backward pass of the
loss (the official code repeats it per proxy on identical copies; the values are the same).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from common.scores._util import full_fp32, logits_of, module_mode, weight_layers

PROXIES: tuple[str, ...] = ("grad_norm", "snip", "grasp", "fisher", "jacob_cov", "synflow")
LOSS_PROXIES = ("grad_norm", "snip", "grasp", "fisher")
JACOB_COV_K = 1e-5  # eval_score in measures/jacob_cov.py

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def zero_cost_scores(
    net: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    names: Iterable[str] = PROXIES,
    loss_fn: LossFn = F.cross_entropy,
) -> dict[str, float]:
    """The requested proxies of ``net`` on one labelled mini-batch, in the order asked."""
    names = list(names)
    unknown = [n for n in names if n not in PROXIES]
    if unknown:
        raise ValueError(f"unknown zero-cost proxies {unknown}; valid: {', '.join(PROXIES)}")
    out: dict[str, float] = {}
    loss_based = [n for n in names if n in LOSS_PROXIES]
    if loss_based:
        out.update(loss_gradient_proxies(net, inputs, targets, loss_based, loss_fn))
    if "jacob_cov" in names:
        out["jacob_cov"] = jacob_cov(net, inputs)
    if "synflow" in names:
        out["synflow"] = synflow(net, inputs)
    return {n: out[n] for n in names}


def _fan_in(layer: nn.Module) -> int:
    return int(math.prod(layer.weight.shape[1:]))


def loss_gradient_proxies(
    net: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    names: Iterable[str] = LOSS_PROXIES,
    loss_fn: LossFn = F.cross_entropy,
) -> dict[str, float]:
    """``grad_norm``, ``snip``, ``fisher`` and ``grasp`` from one forward/backward of the loss."""
    names = set(names)
    net = copy.deepcopy(net)
    layers = weight_layers(net)
    weights = [layer.weight for layer in layers]
    fisher = torch.zeros((), dtype=torch.float64, device=inputs.device)
    collecting = True  # fisher reads the first-order backward only, not grasp's second one
    handles = []

    def fisher_hook(layer: nn.Module) -> Callable:
        fan = _fan_in(layer)

        def forward_hook(_m: nn.Module, _inp: tuple, act: torch.Tensor) -> None:
            if not act.requires_grad:
                return
            saved = act.detach()

            def grad_hook(grad: torch.Tensor) -> None:
                nonlocal fisher
                if not collecting:
                    return
                prod = saved * grad.detach()
                g_nk = prod.sum(tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
                fisher = fisher + 0.5 * g_nk.double().pow(2).mean(0).sum() * fan

            act.register_hook(grad_hook)

        return forward_hook

    if "fisher" in names:
        handles = [layer.register_forward_hook(fisher_hook(layer)) for layer in layers]
    try:
        with module_mode(net, True), torch.enable_grad(), full_fp32():
            loss = loss_fn(logits_of(net(inputs)), targets)
            grads = torch.autograd.grad(
                loss, weights, create_graph="grasp" in names, allow_unused=True
            )
            collecting = False
            out: dict[str, float] = {}
            pairs = [(w, g) for w, g in zip(weights, grads, strict=True) if g is not None]
            if "grad_norm" in names:
                out["grad_norm"] = float(sum(g.detach().double().norm() for _, g in pairs))
            if "snip" in names:
                out["snip"] = float(
                    sum((w.detach() * g.detach()).double().abs().sum() for w, g in pairs)
                )
            if "fisher" in names:
                out["fisher"] = float(fisher)
            if "grasp" in names:
                out["grasp"] = _grasp(weights, grads)
    finally:
        for h in handles:
            h.remove()
    return out


def _grasp(weights: list[torch.Tensor], grads: tuple) -> float:
    """sum -w * (H g): Hessian-gradient product by double backpropagation of g . grad(L)."""
    terms = [(g.detach() * g).sum() for g in grads if g is not None and g.requires_grad]
    if not terms:
        return 0.0
    hg = torch.autograd.grad(sum(terms), weights, allow_unused=True)
    return float(
        sum(
            (-w.detach() * h).double().sum()
            for w, h in zip(weights, hg, strict=True)
            if h is not None
        )
    )


def grad_norm(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, **kw) -> float:
    return loss_gradient_proxies(net, inputs, targets, ["grad_norm"], **kw)["grad_norm"]


def snip(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, **kw) -> float:
    return loss_gradient_proxies(net, inputs, targets, ["snip"], **kw)["snip"]


def grasp(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, **kw) -> float:
    return loss_gradient_proxies(net, inputs, targets, ["grasp"], **kw)["grasp"]


def fisher(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, **kw) -> float:
    return loss_gradient_proxies(net, inputs, targets, ["fisher"], **kw)["fisher"]


def jacob_cov_from_jacobian(jac: np.ndarray, k: float = JACOB_COV_K) -> float:
    """-sum(log(v + k) + 1/(v + k)) over the eigenvalues of the rows' correlation matrix."""
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.corrcoef(np.asarray(jac, dtype=np.float64))
        if not np.all(np.isfinite(corr)):
            return math.nan  # a constant row: correlation undefined (official: NaN too)
        v = np.linalg.eigvalsh(corr)
        return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


def jacob_cov(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None) -> float:
    del targets  # label-free
    net = copy.deepcopy(net)
    x = inputs.detach().clone().requires_grad_(True)
    with module_mode(net, True), torch.enable_grad(), full_fp32():
        (grad_x,) = torch.autograd.grad(logits_of(net(x)).sum(), x)
    return jacob_cov_from_jacobian(grad_x.reshape(x.shape[0], -1).double().cpu().numpy())


def strip_batchnorm(net: nn.Module) -> nn.Module:
    """Replace every BatchNorm layer by the identity, in place (synflow's ``bn=False``)."""
    for module in list(net.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(module, name, nn.Identity())
    return net


def synflow(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None) -> float:
    """Synaptic flow of ``net`` at its current weights; ``inputs`` gives only the shape."""
    del targets  # data-free
    net = strip_batchnorm(copy.deepcopy(net)).double()
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    layers = weight_layers(net)
    ones = torch.ones((1, *inputs.shape[1:]), dtype=torch.float64, device=inputs.device)
    with module_mode(net, True), torch.enable_grad():
        total = logits_of(net(ones)).sum()
        grads = torch.autograd.grad(total, [m.weight for m in layers], allow_unused=True)
    return float(
        sum(
            (m.weight.detach() * g).abs().sum()
            for m, g in zip(layers, grads, strict=True)
            if g is not None
        )
    )
