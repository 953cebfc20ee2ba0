"""NASWOT search (Mellor, Turner, Storkey, Crowley, ICML 2021, Sect. 4, Algorithm 1;
official code: BayesWatch/nas-without-training @b3a82a6, search.py).

One run: draw one mini-batch of training images, sample N cells uniformly (with
replacement, ``np.random.randint``), build each cell's untrained NB-201 network, score it
on that same batch (the official code resets the RNG so that every cell sees the run's
first batch) and return the cell with the highest score (``nanargmax``). The found cell's
accuracies are then read, uncounted, from the NB-201 table.

Weight init (``weights``). search.py restores the RNG state after building each network and
before drawing the batch, so every network of a run but the first is built from one and the
same RNG state: a cell's weights, and so its score, depend on the run and the cell only.
``"shared"`` does that (every network built right after ``torch.manual_seed(run_seed)``; the
official first network's different state is not reproduced), and a cell sampled twice in a
run is scored once. ``"sequential"`` is the project's first protocol (seed once, build in
sampling order: a network depends on every build before it), kept to replay the records made
with it, together with ``hooks="relu_modules"`` (``common/scores/naswot.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from common.data.pool import CIFAR10_MEAN_XAUTODL, CIFAR10_STD_XAUTODL, ImagePool
from common.errors import choices_error
from common.evaluators.training_free import TrainingFreeEvaluator
from common.scores.cache import ScoreCache
from common.scores.naswot import naswot_score
from common.spaces.nb201.arch import NUM_ARCHS, Nb201Arch, all_archs
from common.spaces.nb201.model import Nb201Network


@dataclass(frozen=True)
class NaswotSettings:
    num_samples: int = 100  # N: cells scored per run
    batch_size: int = 128  # search.py --batch_size 128
    num_classes: int = 1  # nasspace.py get_network: config['num_classes'] = 1
    channels: int = 16  # NB-201 network C=16 (get_net_config)
    cells_per_stage: int = 5  # ... N=5
    augment: bool = False  # --augtype none: flip and crop removed (datasets/data.py)
    mean: Sequence[float] = CIFAR10_MEAN_XAUTODL  # datasets/get_dataset_with_transform.py
    std: Sequence[float] = CIFAR10_STD_XAUTODL
    train_mode: bool = True  # networks straight from the constructor: train mode
    hooks: str = "official"  # search.py's hooks; "relu_modules": records before the fix
    weights: str = "shared"  # search.py's RNG reset; "sequential": records before the fix
    # Not a paper setting: on a CPU the NB-201 forward pass is about 2x faster in NHWC
    # (oneDNN) and the score agrees to ~1e-7 relative (tests/common/scores/test_naswot.py).
    # Forward only, so the CUDA avg_pool2d backward bug behind ``to_nchw`` cannot reach it.
    channels_last_on_cpu: bool = True


@functools.cache
def cells() -> tuple[Nb201Arch, ...]:
    """All 15,625 cells, indexed by arch code (built once: 0.1 s, a run may take less)."""
    return tuple(all_archs())


def draw_run(
    pool: ImagePool, settings: NaswotSettings, run_seed: int, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, np.ndarray]:
    """A run's random draws, in the order it makes them: its batch, then its N arch codes.

    Cheap (no network is built), so which cells a seed's runs will sample can be listed
    before, or without, scoring them.
    """
    rng = np.random.default_rng(run_seed)
    x, _ = pool.batch(
        rng, settings.batch_size, settings.mean, settings.std, settings.augment, device=device
    )
    return x, rng.integers(0, NUM_ARCHS, settings.num_samples)


def _layout(settings: NaswotSettings, device: torch.device | str) -> torch.memory_format:
    nhwc = settings.channels_last_on_cpu and torch.device(device).type == "cpu"
    return torch.channels_last if nhwc else torch.contiguous_format


def build_network(
    settings: NaswotSettings, arch: Nb201Arch, device: torch.device | str
) -> Nb201Network:
    """The untrained NB-201 network of ``arch``. Its build draws the initial weights from
    torch's RNG, so a network depends on every build before it in the run."""
    return Nb201Network(
        arch,
        settings.num_classes,
        channels=settings.channels,
        cells_per_stage=settings.cells_per_stage,
    ).to(device, memory_format=_layout(settings, device))


def _networks(
    settings: NaswotSettings, codes: Sequence[int], device: torch.device | str
) -> Iterator[Nb201Network]:
    """The run's untrained networks in sampling order."""
    archs = cells()
    for code in codes:
        yield build_network(settings, archs[code], device)


def score_key(settings: NaswotSettings, data_variant: str) -> str:
    """The cache key of the score: every setting that changes a cell's score on a batch."""
    s = settings
    return (
        f"naswot hooks={s.hooks} train_mode={s.train_mode} batch_size={s.batch_size}"
        f" C={s.channels} N={s.cells_per_stage} classes={s.num_classes} augment={s.augment}"
        f" mean={list(s.mean)} std={list(s.std)} images={data_variant}"
    )


def score_cell(
    settings: NaswotSettings, arch: Nb201Arch, x: torch.Tensor, init_seed: int, device
) -> float:
    """The score of ``arch``'s network built right after ``torch.manual_seed(init_seed)``."""
    torch.manual_seed(init_seed)
    net = build_network(settings, arch, device)
    return naswot_score(net, x, train_mode=settings.train_mode, hooks=settings.hooks)


def naswot_run(
    pool: ImagePool,
    settings: NaswotSettings,
    run_seed: int,
    device: torch.device,
    cache: ScoreCache | None = None,
) -> dict:
    """One NASWOT search; returns the chosen cell, all sampled cells and their scores.

    The cells are scored on the run's batch in sampling order (each network built just
    before its score, as the official loop does). With ``weights="shared"`` a (cell, run)
    pair is scored once: a duplicate in the run, or one ``cache`` (keyed by the run seed,
    which fixes both the batch and the init) already holds, is reused. A progress bar
    appears when a run takes more than 10 s (N = 1000 on a CPU takes minutes).
    """
    if settings.weights not in ("shared", "sequential"):
        raise choices_error("NASWOT weights", settings.weights, ("sequential", "shared"))
    torch.manual_seed(run_seed)
    archs = cells()
    x, codes = draw_run(pool, settings, run_seed, device)
    x = x.contiguous(memory_format=_layout(settings, device))
    bar = tqdm(codes, desc="cells", unit="cell", leave=False, delay=10, mininterval=2)
    if settings.weights == "sequential":
        evaluator = TrainingFreeEvaluator(
            "naswot",
            functools.partial(build_network, settings, device=device),
            x,
            options={"train_mode": settings.train_mode, "hooks": settings.hooks},
        )
        scores = [evaluator.evaluate(archs[code]).score for code in bar]
    else:
        cache = cache if cache is not None else ScoreCache(score_key(settings, "?"))
        batch = f"run_seed={run_seed} (batch and init)"
        scores = [
            cache.get_or_compute(
                str(archs[code]),
                batch,
                lambda code=code: score_cell(settings, archs[code], x, run_seed, device),
            )
            for code in bar
        ]
    best = best_index(scores)
    return {
        "arch": archs[codes[best]],
        "top_score": float(scores[best]),
        "sampled_codes": codes.tolist(),
        "scores": scores,
    }


def best_index(scores: Sequence[float]) -> int:
    """``nanargmax`` as search.py (``-inf``, a singular kernel, is a valid lowest score); 0
    when every score is NaN."""
    arr = np.asarray(scores, dtype=np.float64)
    return 0 if np.all(np.isnan(arr)) else int(np.nanargmax(arr))


def replay_cell_score(
    pool: ImagePool,
    settings: NaswotSettings,
    run_seed: int,
    code: int,
    device: torch.device | str = "cpu",
) -> float | None:
    """The score ``naswot_run`` gives cell ``code`` in run ``run_seed`` (at its first draw),
    or None when the run does not sample it.

    With ``weights="sequential"`` the networks drawn before it are built, to advance torch's
    RNG as the run does, but not scored, so this costs one score and a few seconds of builds
    instead of a whole search.
    """
    torch.manual_seed(run_seed)
    x, codes = draw_run(pool, settings, run_seed, device)
    hits = np.flatnonzero(codes == code)
    if hits.size == 0:
        return None
    x = x.contiguous(memory_format=_layout(settings, device))
    if settings.weights == "shared":
        return score_cell(settings, cells()[code], x, run_seed, device)
    *_, net = _networks(settings, codes[: hits[0] + 1], device)
    return naswot_score(net, x, train_mode=settings.train_mode, hooks=settings.hooks)
