"""NASNet-A (Zoph et al., CVPR 2018): the published cell as a timm model (``models``).
See README.md."""
