"""One DARTS search step: the architecture step uses the validation batch and Adam, the
weight step uses the training batch and SGD with clipping, in the configured order, and
alpha receives no gradient from the weight step."""

import pytest
import torch
from torch.nn import functional as F

from common.search.darts_bilevel import first_order_grad
from common.supernets.nb201 import Nb201Supernet
from reproductions.darts.search_module import search_step


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def setup():
    torch.manual_seed(0)
    net = Nb201Supernet(num_classes=3, in_channels=1, channels=4, cells_per_stage=1, affine=False)
    g = torch.Generator().manual_seed(2)
    train = (torch.randn(8, 1, 8, 8, generator=g), torch.randint(0, 3, (8,), generator=g))
    val = (torch.randn(8, 1, 8, 8, generator=g), torch.randint(0, 3, (8,), generator=g))
    w_opt = torch.optim.SGD(net.weight_parameters(), lr=0.1, momentum=0.9, weight_decay=3e-4)
    a_opt = torch.optim.Adam(net.arch_parameters(), lr=0.01, betas=(0.5, 0.999), weight_decay=1e-3)
    return net, train, val, w_opt, a_opt


def test_first_order_step_arch_first():
    net, train, val, w_opt, a_opt = setup()
    alpha0 = net.mixer.alphas["cell"].detach().clone()
    (g,), _ = first_order_grad(net, F.cross_entropy, val)  # at the initial weights
    # the expected alpha after one Adam step (weight decay 1e-3 added to the gradient)
    ref = torch.nn.Parameter(alpha0.clone())
    ref_opt = torch.optim.Adam([ref], lr=0.01, betas=(0.5, 0.999), weight_decay=1e-3)
    ref.grad = g.clone()
    ref_opt.step()
    out = search_step(net, w_opt, a_opt, train, val, 0.1, "first", True, 0.9, 3e-4, 5.0)
    torch.testing.assert_close(net.mixer.alphas["cell"].detach(), ref.detach())
    assert {"train_loss", "train_acc", "arch_loss"} <= set(out)


def test_weight_step_gives_alpha_no_gradient_and_uses_the_train_batch():
    net, train, val, w_opt, a_opt = setup()
    w0 = [p.detach().clone() for p in net.weight_parameters()]
    a_opt.step = lambda: None  # freeze alpha to isolate the weight step
    (g_val,), _ = first_order_grad(net, F.cross_entropy, val)
    search_step(net, w_opt, a_opt, train, val, 0.1, "first", True, 0.9, 3e-4, 5.0)
    # the weight step (after the arch step) added nothing to alpha's gradient
    torch.testing.assert_close(net.mixer.alphas["cell"].grad, g_val)
    # expected: SGD step from the clipped train-batch gradient at w0
    net2, *_ = setup()
    for p, w in zip(net2.weight_parameters(), w0, strict=True):
        p.data.copy_(w)
    loss = F.cross_entropy(net2(train[0]), train[1])
    grads = torch.autograd.grad(loss, list(net2.weight_parameters()))
    norm = torch.cat([g.flatten() for g in grads]).norm()
    scale = min(1.0, 5.0 / (float(norm) + 1e-6))
    for p, w, g in zip(net.weight_parameters(), w0, grads, strict=True):
        torch.testing.assert_close(
            p.detach(), w - 0.1 * (g * scale + 3e-4 * w), atol=1e-6, rtol=1e-5
        )


def test_second_order_step_runs_and_moves_alpha():
    net, train, val, w_opt, a_opt = setup()
    alpha0 = net.mixer.alphas["cell"].detach().clone()
    search_step(net, w_opt, a_opt, train, val, 0.1, "second", True, 0.9, 3e-4, 5.0)
    search_step(net, w_opt, a_opt, train, val, 0.1, "second", True, 0.9, 3e-4, 5.0)
    assert not torch.equal(net.mixer.alphas["cell"].detach(), alpha0)


def test_speed_options_reach_the_search_module():
    from common.errors import NasReproError
    from common.speed import Speed
    from reproductions.darts.search_module import DartsSearchModule

    net, *_ = setup()
    module = DartsSearchModule(net, order="first", speed=Speed(memory_format="channels_last"))
    conv = next(m for m in module.net.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    with pytest.raises(NasReproError, match="speed.compile"):
        DartsSearchModule(net, speed=Speed(compile=True))
