"""FairNAS: Rethinking Evaluation Fairness of Weight Sharing NAS (Chu, Zhang, Xu, ICCV 2021)."""
