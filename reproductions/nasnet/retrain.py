"""Paper-scale stages of NASNet's published models (the shared code:
common/spaces/nasnet/retrain.py): ``run`` trains one on CIFAR-10 and reports its test error,
``sizes`` measures their parameters and multiply-adds. Importing this module registers the
models as timm models, which the shared stages then build by name."""

import reproductions.nasnet.models  # noqa: F401  (registers the timm models)
from common.spaces.nasnet.retrain import run, sizes

__all__ = ["run", "sizes"]
