"""Data-parallel training on CPU (two gloo processes, ``trainer.devices=2
trainer.strategy=ddp_spawn trainer.accelerator=cpu``) through ``common.training.fit``: a DARTS
search step (manual bilevel optimisation) and a retrain step keep the two ranks' weights and
architecture parameters identical, and equal one process that sees the same global batch.

The global batch is the same: under DDP Lightning gives each training loader a shuffling
``DistributedSampler`` (seed ``PL_GLOBAL_SEED`` or 0, reshuffled per epoch through
``set_epoch``), so rank r takes positions r, r+2, ... of one permutation; the one process
reads that permutation in order (the same sampler with one replica), whose batches are the
union of the ranks' batches. BatchNorm is frozen (eval mode) in the comparison with one process: its statistics are
per device under DDP (no SyncBatchNorm on CPU), which would make "equal" a question of BN,
not of the gradient averaging under test. Slow tier: each fit spawns two processes.
"""

from __future__ import annotations

import os

import lightning as L
import pytest
import torch
from lightning.pytorch.utilities.combined_loader import CombinedLoader
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from common.spaces.darts.genotype import Genotype
from common.training import fit

pytestmark = pytest.mark.slow

BATCH = 8  # per process; one process gets 2 * BATCH


def _tensors(seed: int, n: int = 32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def _loader(seed: int, batch_size: int, single: bool) -> DataLoader:
    data = TensorDataset(*_tensors(seed))
    if not single:  # Lightning injects the distributed sampler
        return DataLoader(data, batch_size=batch_size)
    order = DistributedSampler(
        data, num_replicas=1, rank=0, shuffle=True, seed=int(os.getenv("PL_GLOBAL_SEED", 0))
    )
    return DataLoader(data, batch_size=batch_size, sampler=order)


class SearchData(L.LightningDataModule):
    """Two fixed sets ("train" for w, "arch" for alpha)."""

    def __init__(self, batch_size: int, single: bool) -> None:
        super().__init__()
        self.batch_size, self.single = batch_size, single

    def train_dataloader(self) -> CombinedLoader:
        loaders = {
            part: _loader(seed, self.batch_size, self.single)
            for part, seed in (("train", 1), ("arch", 2))
        }
        return CombinedLoader(loaders, mode="min_size")


class TrainData(L.LightningDataModule):
    def __init__(self, batch_size: int, single: bool) -> None:
        super().__init__()
        self.batch_size, self.single = batch_size, single

    def train_dataloader(self) -> DataLoader:
        return _loader(3, self.batch_size, self.single)


class FreezeBN(L.Callback):
    def on_train_epoch_start(self, trainer, pl_module) -> None:
        for m in pl_module.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()


class DumpState(L.Callback):
    """Each rank writes its final parameters (weights and architecture parameters; not BN's
    running statistics, which are per device under DDP) to ``<dir>/rank<r>.pt``."""

    def __init__(self, out_dir) -> None:
        self.out_dir = out_dir

    def on_train_end(self, trainer, pl_module) -> None:
        state = {k: v.detach().clone() for k, v in pl_module.named_parameters()}
        torch.save(state, f"{self.out_dir}/rank{trainer.global_rank}.pt")


def search_module():
    from common.supernets.darts import DartsSupernet
    from reproductions.darts.search_module import DartsSearchModule

    torch.manual_seed(0)
    net = DartsSupernet(C=4, num_classes=10, layers=3, in_channels=1)
    return DartsSearchModule(net, order="first", max_epochs=2)


def retrain_module():
    from common.spaces.darts.model import NetworkCIFAR
    from common.training import DartsEvalModule

    torch.manual_seed(0)
    genotype = Genotype.parse(
        "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('max_pool_3x3', 0),"
        " ('dil_conv_3x3', 2), ('sep_conv_3x3', 1), ('avg_pool_3x3', 3), ('skip_connect', 0),"
        " ('sep_conv_5x5', 4)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0),"
        " ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0),"
        " ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))"
    )
    net = NetworkCIFAR(
        C=4, num_classes=10, layers=3, auxiliary=False, genotype=genotype, in_channels=1
    )
    return DartsEvalModule(net, max_epochs=2, drop_path_prob=0.0)


def _run(make_module, make_data, devices: int, out_dir, freeze_bn: bool) -> list[dict]:
    trainer = {
        "accelerator": "cpu",
        "devices": devices,
        "strategy": "ddp_spawn" if devices > 1 else "auto",
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
    }
    out_dir.mkdir()
    callbacks = [DumpState(str(out_dir))] + ([FreezeBN()] if freeze_bn else [])
    batch = BATCH if devices > 1 else 2 * BATCH  # one process: both shards together
    fit(make_module(), make_data(batch, devices == 1), trainer, 2, callbacks=callbacks)
    return [torch.load(out_dir / f"rank{r}.pt", weights_only=True) for r in range(devices)]


def _assert_same(a: dict, b: dict, **tol) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=lambda m, k=key: f"{k}: {m}", **tol)


@pytest.mark.parametrize(
    ("make_module", "make_data"),
    [(search_module, SearchData), (retrain_module, TrainData)],
    ids=["darts-search", "retrain"],
)
def test_two_ranks_stay_identical_and_equal_one_process(tmp_path, make_module, make_data):
    torch.set_num_threads(1)
    # BN as in training: the two ranks must still hold identical parameters
    rank0, rank1 = _run(make_module, make_data, 2, tmp_path / "ddp", freeze_bn=False)
    _assert_same(rank0, rank1, rtol=0, atol=0)
    alphas = [k for k in rank0 if "alpha" in k]
    assert alphas or make_module is retrain_module
    # BN frozen: two processes of BATCH equal one process of 2 * BATCH
    frozen0, frozen1 = _run(make_module, make_data, 2, tmp_path / "ddp_frozen", freeze_bn=True)
    _assert_same(frozen0, frozen1, rtol=0, atol=0)
    (single,) = _run(make_module, make_data, 1, tmp_path / "one", freeze_bn=True)
    _assert_same(frozen0, single, rtol=1e-4, atol=1e-5)
    start = dict(make_module().named_parameters())
    moved = [k for k in alphas if not torch.equal(single[k], start[k])]
    assert moved == alphas  # the architecture parameters were trained, not left at init
