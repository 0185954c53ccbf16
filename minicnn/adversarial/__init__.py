"""minicnn.adversarial: how easily a trained CNN breaks, and how to make it break less.

    attacks.py       fgsm, pgd (untargeted and targeted; equal to torchattacks' FGSM and PGD)
    evaluate.py      accuracy under attack over a data loader

It builds on minicnn.explain (its checks on images and targets).
"""
from .attacks import fgsm, pgd

__all__ = ["fgsm", "pgd"]
