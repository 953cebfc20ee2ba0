"""Protocols: how an experiment turns searches into reported numbers (repeats, budgets, lookups)."""
