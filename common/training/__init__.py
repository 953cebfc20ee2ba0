"""Lightning modules that train fixed networks (the final-training stage of NAS papers)."""

from common.training.classifier import ClassifierModule

__all__ = ["ClassifierModule"]
