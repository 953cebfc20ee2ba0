"""DARTS: Differentiable Architecture Search (Liu, Simonyan & Yang, ICLR 2019).

Importing this package registers the published DARTS-space models with timm (``models``).
"""

from reproductions.darts import models  # noqa: F401  (registers the timm models)
