"""PNAS (Liu et al., ECCV 2018): the published PNASNet-5 cell as a timm model (``models``).
See README.md."""
