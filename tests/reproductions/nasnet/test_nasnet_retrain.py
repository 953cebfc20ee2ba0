"""The paper-scale retrain stage on a tiny NASNet-A network for two steps: the auxiliary head
and ScheduledDropPath reach the network, the test split is read once at the end, and the
record carries test error and parameters."""

import torch
from hydra import compose, initialize_config_dir

from common.cli import CONF_DIR
from common.spaces.nasnet.model import NASNetwork, NetworkConfig
from common.spaces.nasnet.published import NASNET_A_NORMAL, NASNET_A_REDUCTION
from common.spaces.nasnet.retrain import AuxView
from reproductions.nasnet.retrain import run


def test_aux_view_sets_drop_path_and_returns_aux() -> None:
    net = NASNetwork(NASNET_A_NORMAL, NASNET_A_REDUCTION, NetworkConfig(3, 4))
    view = AuxView(net).train()
    view.drop_path_prob = 0.3
    assert all(cell.drop_prob == 0.3 for cell in net.cells)
    logits, aux = view.forward_with_aux(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 10)
    assert view.eval()(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_retrain_runs_a_few_steps(shared_file) -> None:
    root = shared_file("cifar10_yoongikim_jpegq75_small.npz").parent
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                "experiment=nasnet_nasnet-space_cifar10_retrain",
                "data=cifar10_jpeg_small",
                f"data_root={root}",
                "data.max_train_samples=64",
                "data.max_eval_samples=32",
                "retrain.epochs=1",
                "+retrain.model_kwargs.num_cells=3",
                "+retrain.model_kwargs.num_conv_filters=4",
                "trainer.accelerator=cpu",
            ],
        )
    out = run(cfg, None)
    assert out.protocol["notation"] == "1 @ 96"  # 4 filters x 4 x 6 output states (NASNet-A)
    assert 0 <= out.metrics["test_error"][0] <= 100
    assert out.metrics["params_M"][0] < 0.1
