"""Linear regions: the count on 2-D inputs against a brute-force grid count and the known
number of regions of a line arrangement."""

import numpy as np
import torch
from torch import nn

from common.scores.linear_regions import count_distinct_rows, num_linear_regions

GRID = np.stack(np.meshgrid(np.linspace(-1, 1, 161), np.linspace(-1, 1, 161)), -1).reshape(-1, 2)


def three_lines() -> nn.Module:
    # units x > 0, y > 0, x + y > 0.5: three lines in general position whose three crossings,
    # (0, 0), (0, 0.5) and (0.5, 0), lie inside [-1, 1]^2 -> 1 + 3 + 3 = 7 regions
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        net[0].bias.copy_(torch.tensor([0.0, 0.0, -0.5]))
    return net


def brute_force(layers: list[tuple[np.ndarray, np.ndarray]], points: np.ndarray) -> int:
    patterns, h = [], points
    for w, b in layers:
        z = h @ w.T + b
        patterns.append(z > 0)
        h = np.maximum(z, 0)
    return len({row.tobytes() for row in np.concatenate(patterns, 1)})


def test_line_arrangement_has_seven_regions():
    net = three_lines()
    x = torch.tensor(GRID, dtype=torch.float32)
    layers = [(net[0].weight.detach().numpy(), net[0].bias.detach().numpy())]
    assert brute_force(layers, GRID.astype(np.float32)) == 7
    assert num_linear_regions(net, x, train_mode=False) == 7


def test_two_hidden_layers_match_brute_force():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(2, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    x = torch.tensor(GRID, dtype=torch.float32)
    layers = [(net[i].weight.detach().numpy(), net[i].bias.detach().numpy()) for i in (0, 2)]
    expected = brute_force(layers, GRID.astype(np.float32))
    assert expected > 7
    assert num_linear_regions(net, x, train_mode=False) == expected
    # counted in chunks (TE-NAS forwards 1000 samples at a time): same count without BN
    assert num_linear_regions(net, x, train_mode=False, batch_size=1000) == expected


def test_distinct_rows_of_packed_patterns():
    rows = np.packbits(np.array([[1, 0, 1], [1, 0, 1], [0, 0, 0], [1, 1, 1]], bool), axis=1)
    assert count_distinct_rows(rows) == 3
