"""minicnn.adversarial: how easily a trained CNN breaks, and how to make it break less.

    attacks.py       fgsm, pgd (untargeted and targeted; torchattacks' FGSM and PGD)
    corruptions.py   noise, blur, occlusion, lighting and cutouts at five severities
    robustness.py    accuracy per corruption and severity: a table and a plot
    evaluate.py      accuracy of a model, clean or under attack, batch by batch
    training.py      AdversarialTask: adversarial training (Madry et al.) in the training loop

It builds on minicnn.explain (its checks on images and targets, and Grad-CAM, which places
the occlusion_gradcam corruption) and on minicnn.data.transforms (the image operations).
"""
from .attacks import fgsm, pgd
from .corruptions import LEVELS, SEVERITIES, corrupt
from .evaluate import accuracy, accuracy_under_attack, predictions
from .robustness import corruption_accuracy, format_table, plot_robustness
from .training import AdversarialTask

__all__ = ["AdversarialTask", "LEVELS", "SEVERITIES", "accuracy", "accuracy_under_attack",
           "corrupt", "corruption_accuracy", "fgsm", "format_table", "pgd", "plot_robustness",
           "predictions"]
