"""Stages of NASNet's networks (the shared code: common/spaces/nasnet/retrain.py): ``run``
trains a published model on CIFAR-10 and reports its test error, ``sizes`` measures their
parameters and multiply-adds, ``searched`` retrains the cell a reduced search found
(``genotype=`` its record or its cell.json). Importing this module registers the published
models as timm models, which the shared stages then build by name."""

import reproductions.nasnet.models  # noqa: F401  (registers the timm models)
from common.spaces.nasnet.retrain import run, searched, sizes

__all__ = ["run", "searched", "sizes"]
