"""Read a cell's structure back from a timm NASNet/PNASNet cell module: trace its forward with
torch.fx (every submodule a leaf), then name each block's two ops and the hidden states they
read, and the states the output concatenates, in TF-slim's numbering (0 = the 1x1-projected
current input, 1 = the processed previous input)."""

from __future__ import annotations

import operator

import torch
from torch import fx, nn

from common.spaces.nasnet.cell import Block, Cell


class _Leaves(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return True


def _op_name(module: nn.Module) -> str:
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        return f"{'max' if isinstance(module, nn.MaxPool2d) else 'avg'}_pool_{k}x{k}"
    depthwise = [c for c in module.modules() if isinstance(c, nn.Conv2d) and c.groups > 1]
    if depthwise:
        return f"sep_conv_{depthwise[0].kernel_size[0]}x{depthwise[0].kernel_size[0]}"
    return "identity"  # a strided ReLU-1x1-BN is TF's 'none' at stride 2


def read_cell(cell: nn.Module, space: str) -> Cell:
    graph = _Leaves().trace(cell)
    modules = dict(cell.named_modules())
    states: dict[fx.Node, int] = {}
    for node in graph.nodes:
        if node.op == "call_module" and node.target == "conv_1x1":
            states[node] = 0
        if node.op == "call_module" and node.target in ("conv_prev_1x1", "final_path_bn"):
            states[node] = 1
    blocks: list[Block] = []
    output: tuple[int, ...] = ()
    for node in graph.nodes:
        if node.op == "call_function" and node.target in (operator.add, torch.add):
            args = []
            for arg in node.args[:2]:
                if arg in states:
                    args.append((states[arg], "identity"))
                else:
                    assert arg.op == "call_module", arg
                    args.append((states[arg.args[0]], _op_name(modules[arg.target])))
            states[node] = 2 + len(blocks)
            blocks.append(Block(args[0][0], args[0][1], args[1][0], args[1][1]))
        if node.op == "call_function" and node.target is torch.cat:
            output = tuple(states[a] for a in node.args[0] if a in states)
    return Cell(tuple(blocks), output, space=space)
