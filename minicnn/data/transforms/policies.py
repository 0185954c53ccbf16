"""Named augmentation policies, the ones `minicnn train --augment NAME` offers.

    none     no augmentation
    basic    random shifts by up to 2 pixels (pad 2, crop back), and mirror images where a
             mirror image shows the same class (hflip=True: photos, shapes; not digits)
    strong   basic + a random affine map (rotation, scale, shear), colour jitter and
             random erasing: the kind of recipe used on CIFAR-sized images

The settings are common published choices, not tuned on any dataset here.
"""
from .base import Compose
from .geometric import RandomAffine, RandomCrop, RandomHorizontalFlip
from .photometric import ColorJitter, RandomErasing

POLICIES = ("none", "basic", "strong")


def augmentation_policy(name, hflip=False):
    """The transform (a Compose) of the policy called `name`, one of POLICIES."""
    if name not in POLICIES:
        raise ValueError(f"augmentation_policy: unknown policy {name!r}; choose from "
                         f"{', '.join(POLICIES)}")
    if name == "none":
        return Compose([])
    steps = [RandomCrop(padding=2)] + ([RandomHorizontalFlip()] if hflip else [])
    if name == "strong":
        steps += [RandomAffine(degrees=15, scale=(0.9, 1.1), shear=10),
                  ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1),
                  RandomErasing(p=0.5, scale=(0.02, 0.2))]
    return Compose(steps)
