"""ENAS's macro search (Pham et al., ICML 2018, Sect. 2.3, 3.2; melodyguan/enas @4bcfd73
``scripts/cifar10_macro_search.sh``, ``src/cifar10/general_child.py``,
``general_controller.py``, ``main.py``): the micro module's alternation
(``micro_search.MicroSearchModule``: SGDR per epoch, SGD Nesterov, l2 on every weight, no
clipping, ``train_steps`` x ``num_aggregate`` rewarded children after every epoch, baseline
from 0 moved per child) on the macro network (``common.supernets.enas_macro``), with:

- the controller: ``LstmPolicy`` with skip attention, the drawn decision's entropy
  (``entropy: sampled``) and the skip penalty (KL of the skip probabilities to the target
  0.4) weighted 0.8 in the controller's loss (general_controller.py L291-292);
- rewards and derivation with the shared network in evaluation mode (BN running statistics,
  dropout off): the official ``build_valid_rl`` graph (general_child.py L691);
- the derived architecture, the best of ``derive_samples`` children each on one minibatch,
  is written as ``arc.json`` (``MacroArc``): the flat row ``fixed_arc`` takes, which
  ``enas_macro-space_cifar10_final`` trains in the final network.

Task ``search``: the run's record as the micro search's (children, per-epoch policy profile:
the share of each op and of pools, the skip rate, entropy).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from common.errors import NasReproError
from common.results.logging import RunLogger
from common.results.record import RunResult
from common.supernets.enas_macro import MACRO_OPS, split_macro_arc
from reproductions.enas.micro_search import MicroSearchModule
from reproductions.enas.micro_stages import _search_record, run_search

POOLS = ("avg_pool_3x3", "max_pool_3x3")


@dataclass(frozen=True)
class MacroArc:
    """A macro child: ENAS's flat ``arc_seq`` (per layer its op, then its skip bits)."""

    row: tuple[int, ...]
    num_layers: int

    def __post_init__(self) -> None:
        split_macro_arc(self.row, self.num_layers)  # checks the length

    def __str__(self) -> str:
        return " ".join(str(v) for v in self.row)

    @classmethod
    def sample(cls, num_layers: int, rng: random.Random) -> MacroArc:
        """A uniform random arc: each layer's op one of the six, each skip with probability
        1/2 (the baseline the found arc is compared with)."""
        row: list[int] = []
        for layer in range(num_layers):
            row.append(rng.randrange(len(MACRO_OPS)))
            row += [rng.randrange(2) for _ in range(layer)]
        return cls(tuple(row), num_layers)

    def save(self, path: str | Path) -> None:
        data = {"space": "enas_macro", "num_layers": self.num_layers, "arc": str(self)}
        Path(path).write_text(json.dumps(data, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> MacroArc:
        """From a search's ``arc.json`` or from its run record (``results/enas/...json``:
        the found arc and the search network's depth)."""
        p = Path(path)
        if not p.is_file():
            raise NasReproError(f"macro arc file {path} not found")
        what = f"{path} is not an ENAS macro arc file or macro search record"
        try:
            data = json.loads(p.read_text())
            if "experiment" in data:  # a run record
                if "macro-space" not in str(data["experiment"]) or data.get("stage") != "search":
                    raise NasReproError(f"{what} (experiment {data['experiment']})")
                proto = data["protocol"]
                data = {
                    "space": "enas_macro",
                    "arc": proto["found"],
                    "num_layers": proto["search_network"]["num_layers"],
                }
            arc = cls(tuple(int(v) for v in data["arc"].split()), int(data["num_layers"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as err:
            raise NasReproError(f"{what} ({err})") from err
        if data.get("space") != "enas_macro":
            raise NasReproError(f"{what} (space {data.get('space')})")
        return arc


class MacroSearchModule(MicroSearchModule):
    def set_child(self, row: torch.Tensor | list[int]) -> list[int]:
        row = [int(v) for v in row]
        self.net.set_arc(row)
        return row

    def decode(self, row: list[int]) -> MacroArc:
        return MacroArc(tuple(row), self.net.num_layers)

    @staticmethod
    def param_free_edges(arch: MacroArc) -> int:
        """How many of the found arc's layers are pools (its parameter-free ops)."""
        ops = split_macro_arc(arch.row, arch.num_layers)
        return sum(MACRO_OPS[op] in POOLS for op, _ in ops)

    @torch.no_grad()
    def policy_profile(self, n: int) -> dict[str, Any]:
        """Share of each op over the layers of ``n`` draws, the skip rate (skips drawn over
        ``L (L - 1) / 2``, general_controller.py L276-277), the mean entropy."""
        drawn = self.controller.sample(n)
        layers = self.net.num_layers
        starts = [layer * (layer + 1) // 2 for layer in range(layers)]  # 1 + l entries each
        ops = drawn.decisions[:, starts]
        counts = Counter(ops.flatten().tolist())
        shares = {op: counts.get(i, 0) / ops.numel() for i, op in enumerate(MACRO_OPS)}
        return {
            "param_free_share": sum(shares[op] for op in POOLS),
            "op_shares": shares,
            "skip_rate": float(drawn.skip_count.mean()) / (layers * (layers - 1) / 2),
            "policy_entropy": float(drawn.entropy.mean()),
        }


def search(cfg: DictConfig, logger: RunLogger) -> RunResult:
    arc, path, module = run_search(cfg, logger, MacroSearchModule, "arc.json")
    rec = _search_record(cfg, arc, path, module)
    return RunResult(
        metrics={},
        data_variant=module.data_variant,
        protocol=rec["protocol"],
        diagnostics=rec["diagnostics"],
        cost=rec["cost"],
    )
