"""Single Path One-Shot NAS with Uniform Sampling (Guo et al., ECCV 2020)."""
