"""Every experiment family rejects the values no run can use (``common.validation``), with
one line naming the key: its defaults pass; a negative seed, a negative count, a zero count
that sizes the work, an unknown key, and a required value left open all fail."""

import copy

import pytest
from omegaconf import OmegaConf

from common.cli import _check_keys, _compose, config_options
from common.errors import NasReproError
from common.validation import POSITIVE, SKIP_PREFIXES, _leaves, check_values

EXPERIMENTS = config_options("experiment")


@pytest.fixture(scope="module")
def composed():
    return {e: _compose([f"experiment={e}"]) for e in EXPERIMENTS}


def _open(cfg):
    return [k for k, v in _leaves(cfg) if v == "???"]


def _first(cfg, names):
    for key, value in _leaves(cfg):
        if key.startswith(SKIP_PREFIXES) or isinstance(value, bool):
            continue
        if key.rsplit(".", 1)[-1] in names and isinstance(value, int):
            return key
    return None


def test_defaults_pass_or_need_a_named_value(composed):
    for exp, cfg in composed.items():
        if _open(cfg):  # a retrain leaves its input open: it must say which key it needs
            with pytest.raises(NasReproError, match=rf"needs {_open(cfg)[0]}=<value>"):
                check_values(cfg)
        else:
            check_values(cfg)


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_every_experiment_rejects_a_seed_out_of_range(composed, bad):
    for exp, cfg in composed.items():
        cfg = copy.deepcopy(cfg)
        for key in _open(cfg):
            OmegaConf.update(cfg, key, "x")
        cfg.seed = bad
        with pytest.raises(NasReproError, match=rf"^seed={bad}: a seed is an integer"):
            check_values(cfg)


def test_every_experiment_rejects_zero_and_negative_counts(composed):
    checked = 0
    for exp, cfg in composed.items():
        cfg = copy.deepcopy(cfg)
        for key in _open(cfg):
            OmegaConf.update(cfg, key, "x")
        key = _first(cfg, POSITIVE)
        if key is None:
            continue
        for bad, message in ((0, "at least 1"), (-2, "never negative")):
            OmegaConf.update(cfg, key, bad)
            with pytest.raises(NasReproError, match=rf"^{key}={bad}: .*{message}"):
                check_values(cfg)
        checked += 1
    assert checked >= len(EXPERIMENTS) - 2  # nearly every experiment sizes its work by a count


def test_every_experiment_names_an_unknown_key_and_its_neighbours(composed):
    for exp, cfg in composed.items():
        with pytest.raises(NasReproError, match=r"no 'nosuch' at the top level, which holds: "):
            _check_keys(exp, cfg, ["nosuch.key=1"])
        _check_keys(exp, cfg, ["seed=3", "+nosuch.key=1", "hydra.run.dir=x"])  # all fine


def test_a_required_value_left_open_can_be_given(composed):
    """``genotype: ???`` is a key the retrain has: giving it is no unknown key."""
    exp = "darts-2nd_darts-space_cifar10_retrain"
    _check_keys(exp, composed[exp], ["genotype=outputs/x/genotype.json"])
    with pytest.raises(NasReproError, match=r"no 'genotypes' at the top level"):
        _check_keys(exp, composed[exp], ["genotypes=x"])


@pytest.mark.parametrize(
    "override, choices",
    [
        ("speed.memory_format=nhwc", "contiguous, channels_last"),
        ("speed.precision=fp16", "fp32, bf16"),
    ],
)
def test_speed_options_outside_their_choices_are_one_line(override, choices):
    cfg = _compose(["experiment=random-search_nb201_cifar10", override])
    with pytest.raises(NasReproError, match=rf"{override}: valid: {choices}$"):
        check_values(cfg)
