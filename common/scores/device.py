"""Where the training-free scores run."""

from __future__ import annotations

import torch


def resolve_device(name: str) -> torch.device:
    """``auto``: the first CUDA device if there is one, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
