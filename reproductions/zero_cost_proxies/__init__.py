"""Zero-Cost Proxies for Lightweight NAS (Abdelfattah et al., ICLR 2021): rank correlation of
six zero-cost proxies with NAS-Bench-201 accuracy. See README.md."""
