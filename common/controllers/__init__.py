"""Policies that emit architectures as sequences of decisions, and how they are trained.

``lstm_policy.LstmPolicy``: the LSTM controller family of NAS-RL, NASNet and ENAS (one
categorical decision per step, the previous decision's embedding as the next input; ENAS's
macro-space skip-connection attention and skip penalty as an option). ``reinforce``: its
REINFORCE update with ENAS's entropy bonus, moving-average baseline and Adam settings. The
settings of each paper live in its config (``conf/enas/``), with their sources.
"""
