"""Evaluators: architecture -> (score, cost). Searches ask an evaluator and never know which
kind answers (a benchmark table, a brief training, inherited supernet weights, a
training-free score). See ``base.py`` for the interface."""

from common.evaluators.base import Evaluation, Evaluator

__all__ = ["Evaluation", "Evaluator"]
