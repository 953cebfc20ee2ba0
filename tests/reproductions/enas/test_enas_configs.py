"""ENAS's configs: the macro controller config builds ENAS's macro policy (its decision
sequence is the official ``arc_seq``); the NB-201 search config builds AutoDL's controller."""

import yaml
from hydra.utils import instantiate

from common.cli import CONF_DIR


def load(name):
    return yaml.safe_load((CONF_DIR / "enas" / f"{name}.yaml").read_text())


def test_macro_controller_config_builds_enas_macro_policy():
    policy = instantiate(load("controller_macro")["policy"])
    # main.py L320-325: layer l prints 1 + l entries (its branch, then l skip bits)
    assert policy.sequence_length == sum(1 + layer for layer in range(12))
    assert policy.lstm.hidden_size == 64 and policy.lstm.num_layers == 1
    sample = policy.sample(3)
    assert sample.decisions.shape == (3, 78) and (sample.skip_penalty > 0).all()


def test_nb201_search_config_builds_autodl_controller():
    policy = instantiate(load("search_nb201")["controller"])
    assert policy.sequence_length == 6 and policy.soft[0].out_features == 5
    assert (policy.tanh_constant, policy.temperature, policy.lstm.hidden_size) == (2.5, 5.0, 32)
