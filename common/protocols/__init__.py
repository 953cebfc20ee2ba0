"""Protocols: how a paper's table row is run and selected (the NB-201 query protocol, the
repeated-search harness, the DARTS-space evaluation of a genotype), named in experiment
configs and shared by every paper that reports that kind of row."""
