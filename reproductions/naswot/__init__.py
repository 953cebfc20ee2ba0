"""Neural Architecture Search without Training (Mellor et al., ICML 2021): NASWOT on
NAS-Bench-201. See README.md."""
