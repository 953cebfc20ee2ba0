"""TE-NAS (Chen, Gong, Wang, "Neural Architecture Search on ImageNet in Four GPU Hours: A
Theoretically Inspired Perspective", ICLR 2021): training-free pruning search on
NAS-Bench-201. See README.md."""
