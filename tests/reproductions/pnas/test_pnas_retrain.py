"""The reduced retrain of a searched PNAS cell, one step from the cell.json a search wrote
into its run folder (PNAS's layout: one cell, strided at the reductions)."""

from hydra import compose, initialize_config_dir

from common.cli import CONF_DIR
from common.spaces.nasnet.found import load_found, write_cell_file
from common.spaces.nasnet.published import PNASNET_5
from reproductions.pnas.retrain import searched


def test_searched_cell_retrains_from_its_cell_file(shared_file, tmp_path) -> None:
    root = shared_file("cifar10_yoongikim_jpegq75_small.npz").parent
    cell = write_cell_file(
        PNASNET_5, tmp_path / "cell.json", experiment="pnas_pnas-space_cifar10-jpeg_reduced"
    )
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                "experiment=pnas_pnas-space_cifar10-jpeg_retrain_reduced",
                f"genotype={cell}",
                "data=cifar10_jpeg_small",
                f"data_root={root}",
                "data.max_train_samples=40",
                "data.max_eval_samples=16",
                "retrain.num_cells=3",
                "retrain.num_conv_filters=4",
                "retrain.epochs=1",
                "+trainer.max_steps=1",
                "trainer.accelerator=cpu",
            ],
        )
    out = searched(cfg, None)
    assert out.protocol["searched_cell"] == str(load_found(cell, "pnas", "pnas")[0])
    assert out.protocol["search"] == "pnas_pnas-space_cifar10-jpeg_reduced"
    assert out.protocol["source"]["kind"] == "cell file"
    # N = 1 (3 cells, reductions at 1 and 2) of a 5-block cell: 5 x 4 filters x 4
    assert out.protocol["notation"] == "1 @ 80"
    assert 0 <= out.metrics["test_acc"][0] <= 100 and "val_acc" in out.metrics
