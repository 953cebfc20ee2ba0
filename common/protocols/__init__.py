"""Evaluation protocols that several papers share, named as tasks in experiment configs."""
