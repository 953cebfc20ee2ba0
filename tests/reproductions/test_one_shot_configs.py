"""SPOS and FairNAS on NAS-Bench-201 and on NAS-Bench-Macro differ only where the papers differ: the sampler and the
search. Data, supernet, optimiser, evaluation, ranking sample and search budget are the same,
and the supernet schedules spend the same compute (FairNAS trains m paths a step)."""

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from common.cli import CONF_DIR
from common.spaces.nb201.arch import OPS
from common.spaces.nb_macro.arch import OPS as MACRO_OPS

PAIRS = [
    ("spos_nb201_cifar10-jpeg_reduced", "fairnas_nb201_cifar10-jpeg_reduced", len(OPS)),
    ("spos_nb-macro_cifar10-jpeg_reduced", "fairnas_nb-macro_cifar10-jpeg_reduced", len(MACRO_OPS)),
]
DIFFERENT = {"experiment_name", "paper"}


def composed(name: str) -> dict:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={name}"])
    return OmegaConf.to_container(cfg, resolve=False)


def test_everything_else_equal():
    for spos_name, fair_name, m in PAIRS:
        spos, fair = composed(spos_name), composed(fair_name)
        # equal compute: one path a step against m paths a step
        assert spos["supernet"].pop("epochs") == m * fair["supernet"].pop("epochs")
        assert spos["ranking"].pop("every") == m * fair["ranking"].pop("every")
        assert spos["supernet"].pop("sampler")["_target_"].endswith("FlopsBinSampler")
        assert fair["supernet"].pop("sampler")["_target_"].endswith("StrictFairSampler")
        s, f = spos.pop("search"), fair.pop("search")
        assert s["_target_"].endswith("spos_evolution") and f["_target_"].endswith("nsga2")
        # the same number of evaluated architectures: population x (generations + 1)
        assert s["population"] == f["population"] and s["generations"] == f["generations"]
        assert s["mutations"] + s["crossovers"] == s["population"]
        for key in DIFFERENT:
            spos.pop(key), fair.pop(key)
        assert spos == fair


def test_spos_sampler_is_uniform_unless_bins_are_set():
    for spos_name, _, _ in PAIRS:
        spos = composed(spos_name)
        assert spos["supernet"]["sampler"]["bins"] is None
        assert spos["search"]["cost_limit"] is None
