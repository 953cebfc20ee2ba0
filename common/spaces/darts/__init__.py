"""The DARTS cell search space (Liu, Simonyan & Yang, ICLR 2019): genotypes (``genotype``),
candidate ops (``ops``), the networks trained from a genotype (``model``) and the published
cells (``registry``). Its supernet is ``common.supernets.darts``."""

from common.spaces.darts.genotype import ALL_OPS, PRIMITIVES, STEPS, Genotype

__all__ = ["ALL_OPS", "PRIMITIVES", "STEPS", "Genotype"]
