"""BatchNorm for ``channels_last`` float32 tensors on the CPU, with accurate sums.

PyTorch's CPU BatchNorm kernel for ``channels_last`` input accumulates each channel's batch
statistics, and in the backward pass its gradient sums, over the N*H*W positions one after
another in float32; the default layout's kernel sums blockwise. At batch 32 on 32x32 maps the
former is 10-20 times further from float64 (``scripts/bn_layout_accuracy.py``), enough to
move a DARTS search off the authors' float32 trajectory within a few steps.

``SummedBatchNorm2d`` is ``nn.BatchNorm2d`` (same parameters, buffers, state-dict names and
running-statistics updates) whose training-mode pass on such an input computes the same
quantities with torch's reductions, which sum blockwise; every other case (evaluation with
running statistics, NCHW, CUDA, other dtypes, inside ``torch.compile``) is
``nn.BatchNorm2d``'s own.
``Speed.module`` swaps it in for ``speed.memory_format=channels_last``. Its backward is not
differentiable again (double backward raises); nothing that runs in ``channels_last`` needs it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable


class _SummedBatchNorm(torch.autograd.Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over an NHWC-contiguous ``x``, with
    the batch's mean and biased variance, all sums by ``Tensor.sum``."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps: float):
        c = x.shape[1]
        rows = x.permute(0, 2, 3, 1).reshape(-1, c)  # a view: (N*H*W, C)
        mean = rows.mean(0)
        centred = rows - mean
        y = torch.empty_like(x)  # NHWC; written through its (N*H*W, C) view, returned whole
        y_rows = y.permute(0, 2, 3, 1).view(-1, c)
        var = torch.mul(centred, centred, out=y_rows).mean(0)  # y as scratch first
        invstd = (var + eps).rsqrt_()
        scale = invstd if weight is None else invstd * weight
        if bias is None:
            torch.mul(centred, scale, out=y_rows)
        else:
            torch.addcmul(bias, centred, scale, out=y_rows)
        # the backward's per-channel factors, made once here (few small ops per call: a
        # search step calls a BatchNorm thousands of times)
        count = rows.shape[0]
        ctx.save_for_backward(centred, invstd, scale, scale * invstd * invstd / -count)
        ctx.count, ctx.has_weight, ctx.has_bias = count, weight is not None, bias is not None
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, _dmean, _dvar):
        centred, invstd, scale, k_xhat = ctx.saved_tensors
        c = dy.shape[1]
        dy_rows = dy.permute(0, 2, 3, 1).reshape(-1, c)  # a copy only if dy is not NHWC
        sum_dy = dy_rows.sum(0)
        dx = torch.empty_like(centred)  # scratch for dy * (x - mean) first
        sum_dy_centred = torch.mul(dy_rows, centred, out=dx).sum(0)
        # dx = scale * (dy - sum_dy / count - xhat * sum_dy_xhat / count)
        torch.addcmul(sum_dy * scale / -ctx.count, centred, k_xhat * sum_dy_centred, out=dx)
        dx.addcmul_(dy_rows, scale)
        grad_w = sum_dy_centred * invstd if ctx.has_weight and ctx.needs_input_grad[1] else None
        grad_b = sum_dy if ctx.has_bias and ctx.needs_input_grad[2] else None
        n, _, h, w = dy.shape
        return dx.view(n, h, w, c).permute(0, 3, 1, 2), grad_w, grad_b, None


class SummedBatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` with accurate sums for CPU ``channels_last`` float32 batches."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch_stats = self.training or not self.track_running_stats
        if not (
            batch_stats
            and not torch.compiler.is_compiling()  # a compiled graph makes its own kernels
            and x.device.type == "cpu"
            and x.dtype == torch.float32
            and x.dim() == 4
            and x.is_contiguous(memory_format=torch.channels_last)
            and not x.is_contiguous()
        ):
            return super().forward(x)
        self._check_input_dim(x)
        y, mean, var = _SummedBatchNorm.apply(x, self.weight, self.bias, self.eps)
        if self.training and self.track_running_stats:
            self._update_running_stats(mean, var, x.numel() // x.shape[1])
        return y

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, count: int) -> None:
        """As ``nn.BatchNorm2d`` does: momentum (or a cumulative average when it is None),
        the unbiased variance."""
        self.num_batches_tracked.add_(1)
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean.lerp_(mean, factor)
        self.running_var.lerp_(var * count / max(count - 1, 1), factor)


def use_summed_batchnorm(net: nn.Module) -> int:
    """Make every plain ``nn.BatchNorm2d`` of ``net`` a ``SummedBatchNorm2d``, in place (its
    tensors untouched); returns how many."""
    swapped = 0
    for module in net.modules():
        if type(module) is nn.BatchNorm2d:
            module.__class__ = SummedBatchNorm2d
            swapped += 1
    return swapped
