"""ENAS (Pham et al., ICML 2018): the published cell as timm models (``models``).
See README.md."""
