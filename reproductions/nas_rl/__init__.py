"""NAS-RL (Zoph & Le, ICLR 2017): the CNN search space, its network builder, the LSTM
controller's settings, the child trainer and the searches. See README.md."""
