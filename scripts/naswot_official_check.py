"""NASWOT side by side with the authors' code: the official hook logic of search.py on the
official NB-201 ``TinyNetwork``, and ``common.scores.naswot`` on ``Nb201Network``, with the
same weights and the same batch.

The official network is imported at run time from a checkout of
BayesWatch/nas-without-training (``--official``; its ``models/`` folder, untouched). search.py
keeps its hook logic inline in the search loop, so ``official_hook_logdet`` below restates
it step for step (the reference of ``scripts/benchmark_scores.py`` too): hooks on every module
whose type string holds 'ReLU', ``visited_backwards`` set by legacy backward hooks during a
backward pass of the logits, then a second forward pass that adds, per hooked call, the
float32 products ``x x^T + (1-x)(1-x)^T`` of the input codes to a float64 numpy ``K``. Run:

    python scripts/naswot_official_check.py --official /path/to/nas-without-training \\
        --data /path/to/data --cells 10
"""

import argparse
import importlib
import importlib.util
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import torch

from common.data.pool import experiment_pool
from common.scores.naswot import naswot_score
from common.spaces.nb201.arch import NUM_ARCHS, all_archs
from common.spaces.nb201.model import Nb201Network
from reproductions.naswot.search import NaswotSettings


def official_hook_logdet(network: torch.nn.Module, x: torch.Tensor) -> float:
    """search.py's ``hook_logdet`` score of ``network`` on ``x`` (restated; see the docstring)."""
    batch = x.shape[0]
    network.K = np.zeros((batch, batch))

    def counting_forward_hook(module, inp, out):
        try:
            if not module.visited_backwards:
                return
            if isinstance(inp, tuple):
                inp = inp[0]
            inp = inp.view(inp.size(0), -1)
            c = (inp > 0).float()
            k = c @ c.t()
            k2 = (1.0 - c) @ (1.0 - c.t())
            network.K = network.K + k.cpu().numpy() + k2.cpu().numpy()
        except Exception:  # as search.py: a failing hook (unset flag, no .view) adds nothing
            pass

    def counting_backward_hook(module, inp, out):
        module.visited_backwards = True

    handles, hooked = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy backward hook is deprecated
        for _name, module in network.named_modules():
            if "ReLU" in str(type(module)):
                handles.append(module.register_forward_hook(counting_forward_hook))
                handles.append(module.register_backward_hook(counting_backward_hook))
                hooked.append(module)
        # get_batch_jacobian: forward, backward of ones (sets visited_backwards) ...
        network.zero_grad()
        x1 = x.clone().requires_grad_(True)
        out = network(x1)
        y = out[0] if isinstance(out, tuple) else out  # TinyNetwork returns (logits, pooled)
        y.backward(torch.ones_like(y))
        # ... then the scoring forward pass on a copy of the batch
        network(x.clone())
    for h in handles:
        h.remove()
    for module in hooked:
        module.__dict__.pop("visited_backwards", None)
    kernel = network.K
    del network.K
    _sign, logdet = np.linalg.slogdet(kernel)
    return float(logdet)


def official_tiny_network(checkout: Path, arch: str, num_classes: int = 1):
    """``TinyNetwork(16, 5, genotype, num_classes)`` from the checkout's own model files.

    Their package ``models/__init__.py`` pulls in the whole repository (API, datasets), so the
    package object is made here and only ``models.cell_infers`` (with the ops it imports) and
    ``models/cell_searchs/genotypes.py`` are executed.
    """
    models = checkout / "models"
    if "models" not in sys.modules:
        pkg = types.ModuleType("models")
        pkg.__path__ = [str(models)]
        sys.modules["models"] = pkg
    tiny = importlib.import_module("models.cell_infers.tiny_network")
    spec = importlib.util.spec_from_file_location(
        "naswot_official_genotypes", models / "cell_searchs" / "genotypes.py"
    )
    genotypes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(genotypes)
    return tiny.TinyNetwork(16, 5, genotypes.Structure.str2structure(arch), num_classes)


def copy_weights(src: torch.nn.Module, dst: torch.nn.Module) -> None:
    """Copy parameters and buffers in registration order (both build the same layers in the
    same order; shapes are checked)."""
    a, b = src.state_dict(), dst.state_dict()
    assert len(a) == len(b), (len(a), len(b))
    new = {}
    for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True):
        assert va.shape == vb.shape, (ka, kb, va.shape, vb.shape)
        new[kb] = va.clone()
    dst.load_state_dict(new)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--official", required=True, type=Path, help="nas-without-training checkout")
    ap.add_argument("--data", required=True, help="data_root, or the .npz of the JPEG copy")
    ap.add_argument("--cells", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    settings = NaswotSettings()
    pool = experiment_pool("naswot_nb201_cifar10-jpeg_n10", args.data)
    rng = np.random.default_rng(args.seed)
    x, _ = pool.batch(rng, settings.batch_size, settings.mean, settings.std, False)
    archs = list(all_archs())
    print("code, official (search.py logic, TinyNetwork), ours official hooks, ours before fix")
    for code in rng.integers(0, NUM_ARCHS, args.cells):
        arch = archs[int(code)]
        torch.manual_seed(int(code))
        ours = Nb201Network(arch, 1)
        theirs = official_tiny_network(args.official, str(arch))
        copy_weights(ours, theirs)
        ref = official_hook_logdet(theirs, x)
        new = naswot_score(ours, x)
        old = naswot_score(ours, x, hooks="relu_modules")
        print(f"{code}, {ref:.4f}, {new:.4f}, {old:.4f}, {arch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
