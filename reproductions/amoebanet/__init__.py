"""AmoebaNet-A (Real et al., AAAI 2019): the published cell as a timm model (``models``).
See README.md."""
