"""Checks of a composed run config that no type check catches: values a run cannot use.

Run by ``nasrepro`` before anything is written (``common.cli.validate_argv``), so each bad
value ends in one line naming the key, what it got and what it takes (exit 2):

- a seed must be an integer in [0, 2^32) (numpy's and Lightning's range);
- a count (any integer-valued key) is never negative, and a count that sizes the work
  (``POSITIVE``: runs, epochs, batch sizes, population...) is at least 1; Lightning's
  ``trainer.*`` keys keep their own conventions (``max_epochs=-1``: no limit);
- a value the experiment leaves open (``???``, e.g. a retrain's ``genotype``) must be given,
  with what it takes (``REQUIRED_HINTS``);
- a file a stage reads its input from (``INPUT_FILES``: a retrain's ``genotype``, an ENAS
  ``arc``, the ``search_record`` of a MetaQNN or NAS-RL final stage) must exist, so a
  mistyped path is refused before a run folder is made (what the file holds is checked by
  the stage that reads it);
- the output directory must be creatable and writable.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf

from common.errors import NasReproError
from common.speed import Speed

SEED_KEYS = ("seed", "split_seed")
SEED_LIMIT = 2**32
# integer keys whose value sizes the work: 0 means there is nothing to run
POSITIVE = frozenset(
    """num_runs num_searches num_seeds num_samples num_archs num_candidates num_classes
    epochs iterations batch_size eval_batch_size val_batch_size bn_batch_size ntk_batch_size
    population population_size sample_size generations select layers depth channels C
    cells_per_stage edges_per_node every repeat lstm_size lstm_layers derive_samples
    ctl_num_aggregate num_boot timeout time_budget_s probe_samples val_per_class
    lr_num_batches lr_samples_per_batch epoch_samples max_train_samples workers""".split()
)
SKIP_PREFIXES = ("hydra", "trainer")  # their own conventions (Lightning: -1 = no limit)
REQUIRED_HINTS = {
    "genotype": "the path of a genotype.json a search stage wrote (its run directory), e.g."
    " genotype=outputs/<search experiment>/<run>/genotype.json; NASNet/PNAS retrains also take"
    " a search's cell.json or its record, e.g. genotype=results/nasnet/<search>__seed0.json",
    "arc": "the path of an arc.json an ENAS macro search wrote, or its run record, e.g."
    " arc=results/enas/enas_macro-space_cifar10-jpeg_search_reduced__seed0.json",
    "search_record": "the run record of the search whose networks this stage trains, e.g."
    " search_record=results/metaqnn/metaqnn_metaqnn-space_digits_reduced__seed0.json or"
    " results/nas_rl/nas-rl_nas-rl-space_cifar10-jpeg_reduced__seed0.json",
    "network": "a registered published model name (see the experiment's comments)",
}
# top-level keys naming a file a stage reads, and the values of each that name no file
INPUT_FILES = {"genotype": (), "arc": ("random",), "search_record": ()}


def _leaves(node, prefix: str = ""):
    """(dotted key, value) of every leaf, interpolations unresolved and missing values kept."""
    if isinstance(node, DictConfig):
        for key in node.keys():
            path = f"{prefix}{key}"
            if OmegaConf.is_missing(node, key):
                yield path, "???"
                continue
            child = node._get_node(key)
            if isinstance(child, DictConfig | ListConfig):
                yield from _leaves(child, path + ".")
            else:
                yield path, child._value()


def check_values(cfg: DictConfig) -> None:
    """Raise ``NasReproError`` on the first value the run could not use (module docstring)."""
    experiment = cfg.get("experiment_name", "?")
    Speed.from_cfg(cfg.get("speed"))  # memory format, compile, precision: valid choices
    for key, value in _leaves(cfg):
        if key.startswith(SKIP_PREFIXES):
            continue
        name = key.rsplit(".", 1)[-1]
        if value == "???":
            hint = REQUIRED_HINTS.get(name, "a value")
            raise NasReproError(f"experiment {experiment!r} needs {key}=<value>: {hint}")
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        if name in SEED_KEYS and not 0 <= value < SEED_LIMIT:
            raise NasReproError(f"{key}={value}: a seed is an integer in [0, 2^32), e.g. {key}=0")
        if value < 0:
            raise NasReproError(f"{key}={value}: a count, never negative")
        if value == 0 and name in POSITIVE:
            raise NasReproError(f"{key}=0: at least 1 (it sizes the work; 0 would run nothing)")
    for key, special in INPUT_FILES.items():
        value = cfg.get(key)
        if (
            isinstance(value, str)
            and value not in special
            and not Path(value).expanduser().is_file()
        ):
            valid = f" (or {', '.join(special)})" if special else ""
            raise NasReproError(
                f"{key}={value}: no such file{valid}; {REQUIRED_HINTS.get(key, 'the path of a file')}"
            )


def check_writable(directory: str | Path) -> None:
    """The run directory must be creatable: a scratch directory is made (and removed) in its
    nearest existing parent, since permission bits say nothing for root or /proc."""
    path = Path(directory).absolute()
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        tempfile.TemporaryDirectory(dir=probe).cleanup()
    except OSError as e:
        raise NasReproError(
            f"cannot write the output directory {str(path)!r} ({probe}: {e.strerror});"
            " choose another with hydra.run.dir=<dir>"
        ) from e
