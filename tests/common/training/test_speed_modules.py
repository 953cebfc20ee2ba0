"""Speed options in the training modules: ``channels_last`` trains the same function in NHWC
(loss and every gradient equal to the default layout's to 1e-5, for a DARTS-space and an
NB-201 network, and for a single-path supernet step), bf16 autocast runs on the CPU with
float32 logits, compiling gives the eager loss, and the options reach the modules from a
run's config."""

from __future__ import annotations

import copy

import pytest
import torch
from omegaconf import OmegaConf

from common.errors import NasReproError
from common.protocols import darts_eval
from common.results.logging import RunLogger
from common.spaces.darts.model import NetworkCIFAR
from common.spaces.nb201.arch import Nb201Arch
from common.spaces.nb201.model import Nb201Network
from common.speed import Speed
from common.supernets.macro import MacroSupernet
from common.supernets.mixers import SinglePathMixer
from common.training import ClassifierModule
from common.training.darts_eval_module import DartsEvalModule
from common.training.single_path import (
    PathSpace,
    SinglePathSupernetModule,
    UniformSampler,
    compile_ops,
    ops_of,
)
from reproductions.darts.models import GENOTYPES

NHWC = Speed(memory_format="channels_last")
BEST = Nb201Arch.parse(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)


def darts_net() -> NetworkCIFAR:
    torch.manual_seed(0)  # 6 cells: reductions at 2 and 4, the auxiliary head after cell 4
    return NetworkCIFAR(C=4, layers=6, auxiliary=True, genotype=GENOTYPES["DARTS_V2"])


def nb201_net() -> Nb201Network:  # 2 cells a stage
    torch.manual_seed(0)
    return Nb201Network(BEST, 10, channels=8, cells_per_stage=2)


def batch(n: int = 8, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 3, size, size, generator=g), torch.randint(0, 10, (n,), generator=g)


def step(module, b) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One training step's loss and gradients (the same drop-path draws for every run)."""
    torch.manual_seed(2)
    loss = module.training_step(b, 0)
    loss.backward()
    return loss.detach(), {n: p.grad for n, p in module.net.named_parameters()}


def conv_outputs(net: torch.nn.Module) -> list[torch.Tensor]:
    """Every conv output of the next forward, kept by hooks."""
    outs: list[torch.Tensor] = []
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(lambda _m, _i, out: outs.append(out))
    return outs


@pytest.mark.filterwarnings("ignore:.*self.log.*")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(
    "make, module",
    [
        (darts_net, lambda net, speed: DartsEvalModule(net, drop_path_prob=0.2, speed=speed)),
        (nb201_net, lambda net, speed: ClassifierModule(net, speed=speed)),
    ],
    ids=["darts-v2", "nb201"],
)
def test_channels_last_trains_the_same_function_in_nhwc(make, module, dtype):
    """The same loss and gradients to 1e-5. In float32 the DARTS network's early-layer
    gradients at initialisation are only known to about 1e-2 in either layout (each differs
    from the float64 gradients by up to that, depending on the batch: rounding amplified
    backwards through 20 BN layers on a batch of 8; every single op agrees to 2e-6), so the
    gradients of every parameter are compared in float64, where the two layouts agree to
    1e-13, and the float32 loss (and NB-201's float32 gradients) to 1e-5."""
    net = make().train().to(dtype)
    ref = module(copy.deepcopy(net), None)
    fast = module(net, NHWC)
    if isinstance(fast, DartsEvalModule):
        ref.net.drop_path_prob = fast.net.drop_path_prob = 0.2
    outs = conv_outputs(fast.net)
    x, y = batch()
    loss0, grads0 = step(ref, (x.to(dtype), y))
    loss1, grads1 = step(fast, (x.to(dtype), y))
    assert outs and all(o.is_contiguous(memory_format=torch.channels_last) for o in outs)
    assert not all(o.is_contiguous() for o in outs)  # NHWC, not the default layout
    assert loss1.dtype == dtype
    torch.testing.assert_close(loss1, loss0, rtol=1e-5, atol=1e-5)
    if dtype == torch.float32 and make is darts_net:
        return
    assert grads1.keys() == grads0.keys()
    for name, g in grads0.items():
        torch.testing.assert_close(grads1[name], g, rtol=1e-5, atol=1e-5, msg=name)


def single_path_module(speed: Speed | None) -> SinglePathSupernetModule:
    torch.manual_seed(0)
    net = MacroSupernet(10, mixer=SinglePathMixer, init_channels=4, head_channels=8)
    space = PathSpace.of(net.mixer, lambda p: p, ops_of)
    return SinglePathSupernetModule(net, UniformSampler(space), epochs=1, seed=0, speed=speed)


class _Opt:
    """The optimiser Lightning would hand ``training_step``, without a Trainer."""

    def __init__(self, module) -> None:
        self.param_groups = [{"lr": 0.0}]
        self.stepped = 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        pass

    def step(self) -> None:
        self.stepped += 1


@pytest.mark.filterwarnings("ignore:.*self.log.*")
def test_a_single_path_step_in_channels_last_gives_the_same_gradients(monkeypatch):
    grads = []
    for speed in (None, NHWC):
        module = single_path_module(speed)
        monkeypatch.setattr(module, "optimizers", lambda m=module: _Opt(m))
        monkeypatch.setattr(module, "_set_lr", lambda opt, i: 0.0)
        monkeypatch.setattr(module, "manual_backward", lambda loss: loss.backward())
        module.on_train_epoch_start()
        module.training_step(batch(4, 16), 0)
        grads.append({n: p.grad for n, p in module.net.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for name, g in grads[0].items():
        torch.testing.assert_close(grads[1][name], g, rtol=1e-5, atol=1e-5, msg=name)


@pytest.mark.filterwarnings("ignore:.*self.log.*")
@pytest.mark.parametrize(
    "make, module",
    [
        (darts_net, lambda net, speed: DartsEvalModule(net, drop_path_prob=0.2, speed=speed)),
        (nb201_net, lambda net, speed: ClassifierModule(net, speed=speed)),
    ],
    ids=["darts-v2", "nb201"],  # DARTS: its depthwise convolutions' own backward included
)
def test_bf16_autocast_runs_on_the_cpu_and_gives_float32_logits(make, module):
    net = make().train()
    ref = module(copy.deepcopy(net), None)
    bf16 = module(net, Speed(precision="bf16"))
    outs = conv_outputs(bf16.net)
    x, y = batch()
    logits = bf16(x)
    assert (logits[0] if isinstance(logits, tuple) else logits).dtype == torch.float32
    assert outs and all(o.dtype == torch.bfloat16 for o in outs)
    loss0, _ = step(ref, (x, y))
    loss1, grads = step(bf16, (x, y))
    assert all(g.dtype == torch.float32 for g in grads.values())  # the weights stay float32
    assert loss1 != loss0  # not the same computation ...
    assert abs(float(loss1 - loss0)) < 0.05 * float(loss0)  # ... but close to it


def test_compile_ops_compiles_each_candidate_op_and_nothing_else():
    module = single_path_module(None)
    n = compile_ops(module.net, module.net.mixer.ops)
    assert n == len(module.net.layers) * len(module.net.mixer.ops)
    assert module.net.layers[0][module.net.mixer.ops[0]]._compiled_call_impl is not None
    assert getattr(module.net.stem, "_compiled_call_impl", None) is None


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*self.log.*")
def test_a_compiled_forward_gives_the_eager_loss():
    net = nb201_net().train()
    ref = ClassifierModule(copy.deepcopy(net))
    compiled = ClassifierModule(net, speed=Speed(compile=True))
    loss0, grads0 = step(ref, batch())
    loss1, grads1 = step(compiled, batch())
    torch.testing.assert_close(loss1, loss0, rtol=1e-5, atol=1e-5)
    for name, g in grads0.items():
        torch.testing.assert_close(grads1[name], g, rtol=1e-4, atol=1e-5, msg=name)


def test_the_options_reach_the_modules_from_the_config(tmp_path, monkeypatch):
    cfg = OmegaConf.create(
        {
            "seed": 0,
            "speed": {"memory_format": "channels_last", "compile": False, "precision": "bf16"},
            "logger": {"csv": {"enabled": False}, "wandb": {"enabled": False}},
            "trainer": {"accelerator": "cpu", "devices": 1},
            "retrain": {
                "data": {"_target_": "common.data.digits.DigitsDataModule"},
                "network": {"C": 4, "layers": 3, "auxiliary": False},
                "optim": {},
                "grad_clip": 5.0,
            },
        }
    )
    made = {}
    original = darts_eval.make_module

    def spy(*args, **kwargs):
        made["module"] = original(*args, **kwargs)
        raise RuntimeError("stop after building the module")

    monkeypatch.setattr(darts_eval, "make_module", spy)
    logger = RunLogger(cfg, tmp_path, published_refs=[])
    with pytest.raises(RuntimeError, match="stop after"):
        darts_eval.train_genotype(cfg, logger, GENOTYPES["DARTS_V2"], 1, 0, test=False)
    module = made["module"]
    assert module.speed == Speed("channels_last", False, "bf16")
    conv = next(m for m in module.net.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    node = OmegaConf.create({"memory_format": "nhwc"})
    with pytest.raises(NasReproError, match="memory_format=nhwc"):
        Speed.from_cfg(node)
    assert single_path_module(Speed.from_cfg(cfg.speed)).speed.precision == "bf16"


def test_compile_without_a_cpp_compiler_fails_in_one_line(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(NasReproError, match="needs a C\\+\\+ compiler"):
        ClassifierModule(nb201_net(), speed=Speed(compile=True))
