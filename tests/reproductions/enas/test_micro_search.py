"""ENAS micro search pieces: the official SGDR schedule and the arc -> DARTS genotype mapping."""

from __future__ import annotations

import math

import pytest

from common.errors import NasReproError
from common.protocols.darts_eval import load_genotype
from common.spaces.darts.genotype import Genotype
from reproductions.enas.micro_search import arc_genotype, sgdr_lr
from reproductions.enas.models import CELLS

OFFICIAL = "0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1 1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1"


@pytest.mark.parametrize("restart", [0, 10, 30, 70, 150, 310])
def test_sgdr_restarts_at_the_official_epochs(restart: int) -> None:
    """utils.py L162-183 with T_0 10, T_mul 2: lr_max again at 10, 30, 70, 150, 310."""
    assert sgdr_lr(restart, 0.05, 5e-4, 10, 2) == pytest.approx(0.05)
    assert sgdr_lr(restart + 5, 0.05, 5e-4, 10, 2) < 0.05
    assert sgdr_lr(5, 0.05, 5e-4, 10, 2) == pytest.approx(5e-4 + 0.5 * (0.05 - 5e-4))
    assert sgdr_lr(29, 0.05, 5e-4, 10, 2) == pytest.approx(
        5e-4 + 0.5 * (0.05 - 5e-4) * (1 + math.cos(math.pi * 19 / 20))
    )


def test_official_arc_is_the_registered_enas_cell(tmp_path) -> None:
    """The decoding of cifar10_micro_final.sh's fixed_arc here equals models.py's encoding,
    and the genotype file round-trips through the shared protocol's loader with 5 nodes (its
    default, the DARTS space's 4, refuses it)."""
    genotype = arc_genotype([int(v) for v in OFFICIAL.split()])
    assert genotype == CELLS["ENAS"].genotype
    genotype.save(tmp_path / "genotype.json")
    assert load_genotype(tmp_path / "genotype.json", steps=5) == genotype
    with pytest.raises(NasReproError, match="4 nodes"):
        load_genotype(tmp_path / "genotype.json")
    assert isinstance(genotype, Genotype)
