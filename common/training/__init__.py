"""Lightning modules that train fixed networks (the final-training stage of NAS papers) and the
one helper that fits them (``fit``)."""

from common.training.classifier import ClassifierModule
from common.training.fit import fit, make_trainer

__all__ = ["ClassifierModule", "fit", "make_trainer"]
