"""ENAS's macro space: a child through the shared network equals the same child built as a
discrete network with copied weights, in training and evaluation mode, gradients included;
the arc layout and the pool layers are the official ones."""

from __future__ import annotations

import pytest
import torch

from common.controllers.lstm_policy import LstmPolicy
from common.supernets.enas_macro import EnasMacroNet, copy_child_weights, split_macro_arc


def test_arc_layout_and_pool_layers() -> None:
    # cifar10_macro_final.sh's first rows: layer 0 "0", layer 1 "3 0", layer 2 "0 1 0"
    assert split_macro_arc([0, 3, 0, 0, 1, 0], 3) == [(0, []), (3, [0]), (0, [1, 0])]
    with pytest.raises(ValueError, match="6 entries"):
        split_macro_arc([0, 1, 0, 0], 3)
    assert EnasMacroNet(C=4, num_layers=12).pool_layers == (3, 7)  # general_child.py L95-96
    assert EnasMacroNet(C=4, num_layers=24, arc=[0] * 300).pool_layers == (7, 15)


@pytest.mark.parametrize("seed", [0, 1])
def test_child_equals_the_discrete_network_with_copied_weights(seed: int) -> None:
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    shared = EnasMacroNet(C=4, num_layers=6, keep_prob=1.0)
    policy = LstmPolicy(6, 6, lstm_size=8, skip_attention=True, entropy="sampled")
    opt = torch.optim.SGD(shared.parameters(), lr=0.05)
    x, y = torch.randn(8, 3, 16, 16), torch.randint(0, 10, (8,))
    for _ in range(3):  # move weights and running statistics away from their initial values
        shared.set_arc(policy.sample(1).decisions[0].tolist())
        opt.zero_grad()
        torch.nn.functional.cross_entropy(shared(x), y).backward()
        opt.step()
    row = policy.sample(1).decisions[0].tolist()
    row[0], row[2] = 5, 1  # a max pool at layer 0; layer 1 adds the stem (its skip bit 0)
    shared.set_arc(row)
    child = EnasMacroNet(C=4, num_layers=6, keep_prob=1.0, arc=row)
    copy_child_weights(child, shared)
    assert sum(p.numel() for p in child.parameters()) < sum(p.numel() for p in shared.parameters())
    for mode in (True, False):
        shared.train(mode), child.train(mode)
        out_s, out_c = shared(x), child(x)
        torch.testing.assert_close(out_s, out_c, rtol=0, atol=0)
    shared.train(), child.train()
    shared.zero_grad(), child.zero_grad()
    shared(x).sum().backward()
    child(x).sum().backward()
    torch.testing.assert_close(shared.stem[0].weight.grad, child.stem[0].weight.grad)
    op = row[0]
    torch.testing.assert_close(
        shared.layers[0].branches[str(op)].conv[0].weight.grad,
        child.layers[0].branches[str(op)].conv[0].weight.grad,
    )


def test_macro_search_epoch_passes_the_skip_penalty_and_writes_an_arc(tmp_path, monkeypatch):
    import lightning as L
    from torch.utils.data import DataLoader, TensorDataset

    import reproductions.enas.search_module as sm
    from common.errors import NasReproError
    from reproductions.enas.macro_search import MacroArc, MacroSearchModule

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 3, 16, 16), torch.randint(0, 10, (16,)))
    policy = LstmPolicy(
        4, 6, lstm_size=8, tanh_constant=1.5, skip_attention=True, entropy="sampled"
    )
    module = MacroSearchModule(
        EnasMacroNet(C=4, num_layers=4), policy, DataLoader(data, batch_size=8),
        ctl_train_steps=2, ctl_num_aggregate=3, skip_weight=0.8, grad_clip=None,
        ctl_grad_clip=None, baseline_hold_within_epoch=False, epoch_samples=2,
        derive_samples=3, probe_samples=20, aux_weight=0.0,
    )  # fmt: skip
    weights = []
    real = sm.reinforce_update
    monkeypatch.setattr(
        sm, "reinforce_update", lambda *a, **k: weights.append(k["skip_weight"]) or real(*a, **k)
    )
    trainer = L.Trainer(
        max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, accelerator="cpu",
    )  # fmt: skip
    trainer.fit(module, train_dataloaders=DataLoader(data, batch_size=8))
    assert weights == [0.8, 0.8]  # cifar10_macro_search.sh L39 reaches the controller's loss
    (entry,) = module.history
    assert 0 <= entry["skip_rate"] <= 1 and sum(entry["op_shares"].values()) == pytest.approx(1)
    arc = module.final["arch"]
    assert isinstance(arc, MacroArc) and len(arc.row) == 1 + 2 + 3 + 4
    arc.save(tmp_path / "arc.json")
    assert MacroArc.load(tmp_path / "arc.json") == arc
    (tmp_path / "g.json").write_text('{"space": "nb201", "arc": "0", "num_layers": 1}')
    with pytest.raises(NasReproError, match="not an ENAS macro arc"):
        MacroArc.load(tmp_path / "g.json")


def test_found_architectures_count_their_parameter_free_edges():
    """What the leaderboard's collapse section shows for a found micro cell or macro arc."""
    from common.spaces.darts.genotype import Genotype
    from reproductions.enas.macro_search import MacroArc, MacroSearchModule
    from reproductions.enas.micro_search import MicroSearchModule

    # layers: avg pool; conv 5x5, skip bits 1; max pool, bits 0 1; sep conv 3x3, bits 0 0 1
    arc = MacroArc((4, 2, 1, 5, 0, 1, 1, 0, 0, 1), 4)
    assert MacroSearchModule.param_free_edges(arc) == 2
    cell = [("max_pool_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 0), ("avg_pool_3x3", 2)]
    genotype = Genotype(normal=cell, normal_concat=[2, 3], reduce=cell[:2], reduce_concat=[2])
    assert MicroSearchModule.param_free_edges(genotype) == 3 + 1
