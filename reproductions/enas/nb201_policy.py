"""ENAS's controller for NAS-Bench-201 cells, as the NB-201 paper's re-implementation builds
it (D-X-Y/AutoDL-Projects @f46486e, ``xautodl/models/cell_searchs/search_model_enas.py``
``create_controller`` L84-85 and ``search_model_enas_utils.py`` ``Controller``).

A cell is 6 decisions, one per edge in AutoDL's order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2
(``search_cells.py`` L45-46: ``sorted(edges)``), each over the 5 ops in NB-201's order
(``cell_operations.py`` L95); both are the orders of ``common.spaces.nb201.arch``, so a
decision row is a cell's op indices.
"""

from __future__ import annotations

import torch

from common.controllers.lstm_policy import LstmPolicy
from common.spaces.nb201.arch import NUM_EDGES, OPS, Nb201Arch


def nb201_policy(
    lstm_size: int = 32,
    lstm_layers: int = 2,
    tanh_constant: float | None = 2.5,
    temperature: float | None = 5.0,
) -> LstmPolicy:
    """AutoDL's NB-201 controller (search_model_enas_utils.py L13-46: defaults 32, 2, 2.5,
    5.0; ``nn.LSTM`` and ``nn.Linear`` with biases, its partial uniform init)."""
    return LstmPolicy(
        num_decisions=NUM_EDGES,
        num_choices=len(OPS),
        lstm_size=lstm_size,
        lstm_layers=lstm_layers,
        tanh_constant=tanh_constant,
        temperature=temperature,
        lstm_bias=True,
        softmax_bias=True,
        init="autodl",
    )


def decode(row: torch.Tensor | list[int]) -> Nb201Arch:
    return Nb201Arch.from_indices([int(v) for v in row])
