"""Lightning modules that train fixed networks (the final-training stage of NAS papers) and the
one helper that fits them (``fit``)."""

from common.training.classifier import ClassifierModule
from common.training.darts_eval_module import DartsEvalModule
from common.training.fit import fit, make_trainer

__all__ = ["ClassifierModule", "DartsEvalModule", "fit", "make_trainer"]
