"""The authors' DARTS search step, re-stated to run on torch 2.x CPU: the yardstick of
``scripts/benchmark_darts_vs_official.py``. Not part of the product (nothing under common/ or
reproductions/ imports it).

Source: github.com/quark0/darts @ f276dd3, ``cnn/operations.py``, ``cnn/model_search.py``,
``cnn/architect.py`` and the weight step of ``cnn/train_search.py``. The same computation in
the same order, with only what torch 2.x needs changed: no ``.cuda()``, no ``Variable``,
``add_(t, alpha=R)`` for the removed ``add_(R, t)`` overloads (``R`` as a Python float),
``clip_grad_norm_`` for ``clip_grad_norm``. Everything the authors compute and throw away is
kept, because it is part of their cost:

- ``MixedOp`` evaluates all 8 ops, ``none`` as ``x.mul(0.)``, and sums them with Python's
  ``sum`` (so it starts from ``0 + w_0 * op_0(x)``);
- the softmax of the alphas is taken once per cell, not once per forward;
- the first-order architecture step calls ``loss.backward()``: the weights' gradients are
  computed too (and then zeroed by the weight step);
- the weight step's ``loss.backward()`` also computes the alphas' gradients;
- the second-order step builds a fresh ``Network`` (``new()``: a full random initialisation)
  and loads a state dict into it from a flattened theta; the Hessian-vector product moves the
  weights in place (``+R v``, ``-2R v``, ``+R v``), so they come back up to rounding.

``--official <checkout>`` in the benchmark imports the authors' ``operations.py`` instead of
the ops below (their model and architect need ``.cuda()``; the ops do not).
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

PRIMITIVES = [  # cnn/genotypes.py, in the authors' order (the columns of the alphas)
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
]


# ---- cnn/operations.py ------------------------------------------------------------------


class ReLUConvBN(nn.Module):
    def __init__(self, C_in, C_out, kernel_size, stride, padding, affine=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    def __init__(self, C_in, C_out, kernel_size, stride, padding, dilation, affine=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                C_in, C_in, kernel_size, stride, padding, dilation=dilation, groups=C_in, bias=False
            ),
            nn.Conv2d(C_in, C_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )

    def forward(self, x):
        return self.op(x)


class SepConv(nn.Module):
    def __init__(self, C_in, C_out, kernel_size, stride, padding, affine=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride, padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_in, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, 1, padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )

    def forward(self, x):
        return self.op(x)


class Identity(nn.Module):
    def forward(self, x):
        return x


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    def __init__(self, C_in, C_out, affine=True):
        super().__init__()
        assert C_out % 2 == 0
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine)

    def forward(self, x):
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


OPS = {
    "none": lambda C, stride, affine: Zero(stride),
    "avg_pool_3x3": lambda C, stride, affine: nn.AvgPool2d(
        3, stride=stride, padding=1, count_include_pad=False
    ),
    "max_pool_3x3": lambda C, stride, affine: nn.MaxPool2d(3, stride=stride, padding=1),
    "skip_connect": lambda C, stride, affine: (
        Identity() if stride == 1 else FactorizedReduce(C, C, affine=affine)
    ),
    "sep_conv_3x3": lambda C, stride, affine: SepConv(C, C, 3, stride, 1, affine=affine),
    "sep_conv_5x5": lambda C, stride, affine: SepConv(C, C, 5, stride, 2, affine=affine),
    "dil_conv_3x3": lambda C, stride, affine: DilConv(C, C, 3, stride, 2, 2, affine=affine),
    "dil_conv_5x5": lambda C, stride, affine: DilConv(C, C, 5, stride, 4, 2, affine=affine),
}


def use_official(checkout: str, device: str = "cpu") -> None:
    """Build the search network from the authors' own ``cnn/model_search.py`` and
    ``cnn/operations.py`` in a checkout (``.cuda()`` made a no-op so they run on the CPU or
    on the current device); the architect and the loop stay the re-statement below, whose
    torch 0.3 calls no longer run."""
    sys.path.insert(0, f"{checkout}/cnn")
    if device == "cpu":
        torch.Tensor.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
        nn.Module.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    import model_search  # the authors' module (imports their operations and genotypes)

    globals()["Network"] = model_search.Network


# ---- cnn/model_search.py ----------------------------------------------------------------


class MixedOp(nn.Module):
    def __init__(self, C, stride):
        super().__init__()
        self._ops = nn.ModuleList()
        for primitive in PRIMITIVES:
            op = OPS[primitive](C, stride, False)
            if "pool" in primitive:
                op = nn.Sequential(op, nn.BatchNorm2d(C, affine=False))
            self._ops.append(op)

    def forward(self, x, weights):
        return sum(w * op(x) for w, op in zip(weights, self._ops))


class Cell(nn.Module):
    def __init__(self, steps, multiplier, C_prev_prev, C_prev, C, reduction, reduction_prev):
        super().__init__()
        self.reduction = reduction
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(C_prev_prev, C, affine=False)
        else:
            self.preprocess0 = ReLUConvBN(C_prev_prev, C, 1, 1, 0, affine=False)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0, affine=False)
        self._steps = steps
        self._multiplier = multiplier
        self._ops = nn.ModuleList()
        for i in range(steps):
            for j in range(2 + i):
                self._ops.append(MixedOp(C, 2 if reduction and j < 2 else 1))

    def forward(self, s0, s1, weights):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        offset = 0
        for _ in range(self._steps):
            s = sum(self._ops[offset + j](h, weights[offset + j]) for j, h in enumerate(states))
            offset += len(states)
            states.append(s)
        return torch.cat(states[-self._multiplier :], dim=1)


class Network(nn.Module):
    def __init__(self, C, num_classes, layers, criterion, steps=4, multiplier=4, stem_multiplier=3):
        super().__init__()
        self._C, self._num_classes, self._layers = C, num_classes, layers
        self._criterion = criterion
        self._steps, self._multiplier = steps, multiplier
        C_curr = stem_multiplier * C
        self.stem = nn.Sequential(
            nn.Conv2d(3, C_curr, 3, padding=1, bias=False), nn.BatchNorm2d(C_curr)
        )
        C_prev_prev, C_prev, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in [layers // 3, 2 * layers // 3]
            if reduction:
                C_curr *= 2
            self.cells.append(
                Cell(steps, multiplier, C_prev_prev, C_prev, C_curr, reduction, reduction_prev)
            )
            reduction_prev = reduction
            C_prev_prev, C_prev = C_prev, multiplier * C_curr
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)
        self._initialize_alphas()

    def new(self):
        device = self.alphas_normal.device  # the authors' code: .cuda()
        model_new = Network(self._C, self._num_classes, self._layers, self._criterion).to(device)
        for x, y in zip(model_new.arch_parameters(), self.arch_parameters()):
            x.data.copy_(y.data)
        return model_new

    def forward(self, input):
        s0 = s1 = self.stem(input)
        for cell in self.cells:
            alphas = self.alphas_reduce if cell.reduction else self.alphas_normal
            s0, s1 = s1, cell(s0, s1, F.softmax(alphas, dim=-1))
        out = self.global_pooling(s1)
        return self.classifier(out.view(out.size(0), -1))

    def _loss(self, input, target):
        return self._criterion(self(input), target)

    def _initialize_alphas(self):
        k = sum(1 for i in range(self._steps) for _ in range(2 + i))
        # plain tensors, not registered parameters: parameters() holds the weights only
        device = self.classifier.weight.device
        self.alphas_normal = (1e-3 * torch.randn(k, len(PRIMITIVES))).to(device).requires_grad_()
        self.alphas_reduce = (1e-3 * torch.randn(k, len(PRIMITIVES))).to(device).requires_grad_()
        self._arch_parameters = [self.alphas_normal, self.alphas_reduce]

    def arch_parameters(self):
        return self._arch_parameters


# ---- cnn/architect.py -------------------------------------------------------------------


def _concat(xs):
    return torch.cat([x.view(-1) for x in xs])


class Architect:
    def __init__(self, model, args):
        self.network_momentum = args.momentum
        self.network_weight_decay = args.weight_decay
        self.model = model
        self.optimizer = torch.optim.Adam(
            model.arch_parameters(),
            lr=args.arch_learning_rate,
            betas=(0.5, 0.999),
            weight_decay=args.arch_weight_decay,
        )

    def _compute_unrolled_model(self, input, target, eta, network_optimizer):
        loss = self.model._loss(input, target)
        theta = _concat(self.model.parameters()).data
        try:
            moment = _concat(
                network_optimizer.state[v]["momentum_buffer"] for v in self.model.parameters()
            ).mul_(self.network_momentum)
        except KeyError:  # the authors' bare except: no buffers before the first weight step
            moment = torch.zeros_like(theta)
        grads = torch.autograd.grad(loss, list(self.model.parameters()))
        dtheta = _concat(grads).data + self.network_weight_decay * theta
        return self._construct_model_from_theta(theta.sub(moment + dtheta, alpha=eta))

    def step(self, input_train, target_train, input_valid, target_valid, eta, opt, unrolled):
        self.optimizer.zero_grad()
        if unrolled:
            self._backward_step_unrolled(
                input_train, target_train, input_valid, target_valid, eta, opt
            )
        else:
            self._backward_step(input_valid, target_valid)
        self.optimizer.step()

    def _backward_step(self, input_valid, target_valid):
        self.model._loss(input_valid, target_valid).backward()

    def _backward_step_unrolled(
        self, input_train, target_train, input_valid, target_valid, eta, opt
    ):
        unrolled_model = self._compute_unrolled_model(input_train, target_train, eta, opt)
        unrolled_model._loss(input_valid, target_valid).backward()
        dalpha = [v.grad for v in unrolled_model.arch_parameters()]
        vector = [v.grad.data for v in unrolled_model.parameters()]
        implicit_grads = self._hessian_vector_product(vector, input_train, target_train)
        for g, ig in zip(dalpha, implicit_grads):
            g.data.sub_(ig.data, alpha=eta)
        for v, g in zip(self.model.arch_parameters(), dalpha):
            if v.grad is None:
                v.grad = g.data
            else:
                v.grad.data.copy_(g.data)

    def _construct_model_from_theta(self, theta):
        model_new = self.model.new()
        model_dict = self.model.state_dict()
        params, offset = {}, 0
        for k, v in self.model.named_parameters():
            v_length = int(np.prod(v.size()))
            params[k] = theta[offset : offset + v_length].view(v.size())
            offset += v_length
        assert offset == len(theta)
        model_dict.update(params)
        model_new.load_state_dict(model_dict)
        return model_new

    def _hessian_vector_product(self, vector, input, target, r=1e-2):
        R = float(r / _concat(vector).norm())
        for p, v in zip(self.model.parameters(), vector):
            p.data.add_(v, alpha=R)
        grads_p = torch.autograd.grad(self.model._loss(input, target), self.model.arch_parameters())
        for p, v in zip(self.model.parameters(), vector):
            p.data.sub_(v, alpha=2 * R)
        grads_n = torch.autograd.grad(self.model._loss(input, target), self.model.arch_parameters())
        for p, v in zip(self.model.parameters(), vector):
            p.data.add_(v, alpha=R)
        return [(x - y).div_(2 * R) for x, y in zip(grads_p, grads_n)]


# ---- cnn/train_search.py: one iteration of train() --------------------------------------

ARGS = SimpleNamespace(  # train_search.py defaults
    learning_rate=0.025,
    momentum=0.9,
    weight_decay=3e-4,
    grad_clip=5.0,
    arch_learning_rate=3e-4,
    arch_weight_decay=1e-3,
)


class Search:
    """The model, its weight optimiser and its architect, as ``train_search.main`` builds them."""

    def __init__(self, C=16, num_classes=10, layers=8, args=ARGS):
        self.args = args
        self.model = Network(C, num_classes, layers, nn.CrossEntropyLoss())
        self.optimizer = torch.optim.SGD(
            self.model.parameters(),
            args.learning_rate,
            momentum=args.momentum,
            weight_decay=args.weight_decay,
        )
        self.architect = Architect(self.model, args)

    def plain(self, input, target):
        """The weight step's forward+backward, as the authors' loop runs it."""
        self.optimizer.zero_grad()
        loss = self.model._criterion(self.model(input), target)
        loss.backward()
        return loss

    def step(self, train, valid, lr, unrolled):
        """``train()``'s body: the architecture step, then the weight step."""
        (input, target), (input_search, target_search) = train, valid
        self.architect.step(
            input, target, input_search, target_search, lr, self.optimizer, unrolled
        )
        self.plain(input, target)
        nn.utils.clip_grad_norm_(self.model.parameters(), self.args.grad_clip)
        self.optimizer.step()
