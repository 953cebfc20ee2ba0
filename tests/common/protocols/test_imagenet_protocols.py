"""The ImageNet one-shot and retrain stages' pieces: path costs counted with torch's FLOP
counter equal the official counts (SPOS's 322,918,720 multiply-adds, FairNAS-A's 388.1M) and a
whole discrete network's count for any path, without touching the supernet; the iteration
schedule and parameter groups of the retrain; the architecture file's checks."""

from __future__ import annotations

import json
import math
import random

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from common.errors import NasReproError
from common.protocols.imagenet_retrain import ImageNetClassifier, load_arch
from common.protocols.imagenet_search import PathMacs, count_macs, trainer_steps, write_found
from common.spaces.fairnas_mobilenet import FairNasArch, FairNasNet
from common.spaces.spos_shufflenet import ShuffleNetOneShot, SposArch
from common.supernets import fairnas_mobilenet as fair
from common.supernets import spos_shufflenet as spos

SPOS_PUBLISHED = SposArch((2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3))
FAIRNAS_A = FairNasArch((2, 0, 2, 3, 5, 0, 0, 5, 5, 1, 3, 1, 1, 3, 3, 5, 3, 5, 4))


def test_path_costs_equal_the_official_counts_and_whole_networks():
    torch.set_num_threads(1)
    supernet = spos.SposSupernet()
    supernet.mixer.set_choice(spos.arch_choice(SPOS_PUBLISHED))
    before = {k: v.clone() for k, v in supernet.state_dict().items()}
    macs = PathMacs(supernet)
    # SinglePathOneShot flops.py's count of the published model (reproductions/spos/models.py)
    assert macs(spos.arch_path(SPOS_PUBLISHED)) * 1e6 == 322_918_720
    assert supernet.training and supernet.mixer.choice()["chain"] == spos.arch_path(SPOS_PUBLISHED)
    assert all(torch.equal(v, before[k]) for k, v in supernet.state_dict().items())
    arch = SposArch.sample(random.Random(1))
    whole = count_macs(ShuffleNetOneShot(arch).eval(), torch.zeros(1, 3, 224, 224))
    assert macs(spos.arch_path(arch)) * 1e6 == whole
    fair_macs = PathMacs(fair.FairNasSupernet())
    assert round(fair_macs(fair.arch_path(FAIRNAS_A)), 1) == 388.1  # Table 2: 388M
    arch = FairNasArch.sample(random.Random(2))
    whole = count_macs(FairNasNet(arch).eval(), torch.zeros(1, 3, 224, 224))
    assert fair_macs(fair.arch_path(arch)) * 1e6 == whole


def test_trainer_steps_runs_the_schedule_unless_the_command_line_cuts_it():
    assert trainer_steps({"accelerator": "cpu"}, 150_000) == ({"accelerator": "cpu"}, 150_000)
    args, steps = trainer_steps(OmegaConf.create({"accelerator": "cpu", "max_steps": 2}), 150_000)
    assert args == {"accelerator": "cpu"} and steps == 2
    assert trainer_steps({"max_steps": -1}, 10)[1] == 10


def test_retrain_schedule_and_parameter_groups():
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(10)
    )
    net(torch.zeros(1, 3, 5, 5))
    module = ImageNetClassifier(net, iterations=300_000)
    assert module._factor(0) == 1.0 and module._factor(150_000) == 0.5
    assert module._factor(300_000) == 0.0 and module._factor(400_000) == 0.0
    config = module.configure_optimizers()
    decay, rest = config["optimizer"].param_groups
    assert [p.shape for p in decay["params"]] == [(4, 3, 3, 3), (10, 36)]  # conv, linear weights
    assert rest["weight_decay"] == 0.0 and len(rest["params"]) == 3  # BN weight, bias; linear bias
    assert decay["weight_decay"] == 4e-5 and decay["lr"] == 0.5
    assert config["lr_scheduler"]["interval"] == "step"
    cosine = ImageNetClassifier(net, iterations=100, schedule="cosine", lr=0.4, lr_min=0.04)
    assert math.isclose(cosine._factor(50) * 0.4, 0.22) and math.isclose(cosine._factor(100), 0.1)
    with pytest.raises(NasReproError, match="unknown retrain.optim.schedule"):
        ImageNetClassifier(net, iterations=1, schedule="step")


def test_the_architecture_file_round_trips_and_names_its_space(tmp_path):
    path = tmp_path / "found_arch.json"
    write_found(path, "spos_shufflenet", SPOS_PUBLISHED, 322.91872)
    assert json.loads(path.read_text())["mflops"] == 322.91872
    assert load_arch(path, "spos_shufflenet", SposArch) == SPOS_PUBLISHED
    with pytest.raises(NasReproError, match="not a 'fairnas_mobilenet' one"):
        load_arch(path, "fairnas_mobilenet", FairNasArch)
    with pytest.raises(NasReproError, match="cannot read the architecture file"):
        load_arch(tmp_path / "missing.json", "spos_shufflenet", SposArch)
