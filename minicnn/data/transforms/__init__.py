"""Image transforms and augmentation on NumPy arrays, with torchvision's names.

Images are float arrays in [0, 1], one image (C, H, W) or a batch (N, C, H, W). A dataset
applies its transform to a whole batch at once (see TensorDataset), so every random
transform draws one choice per image, from minicnn's global generator: `manual_seed` and
the checkpoints of `minicnn train --resume` reproduce augmented runs exactly.

Targets travel with the pixels. `transform(img)` returns the image; `transform(img, target)`
returns (image, target), where the target of one image is a dict

    target = {"boxes":  (K, 4) floats x0, y0, x1, y1 in pixels, edges: x1, y1 exclusive
                        (a box around pixel columns 3..5 has x0 = 3, x1 = 6),
                        0 <= x0 <= x1 <= W and 0 <= y0 <= y1 <= H,
              "masks":  (H, W) integer map, or (K, H, W) integer maps, the k-th belonging
                        to the k-th box when there are boxes,
              "labels": (K,), one per box,
              ...any other key, carried along unchanged}

and the target of a batch is a list of N such dicts (every key optional). Geometric
transforms (geometric.py) move boxes and masks exactly as they move pixels: boxes are
clipped to the new image and a box left with no area is dropped together with its label
and its mask; masks are resampled by nearest neighbour only, never blended. Photometric
transforms (photometric.py) leave targets alone. A bad target (a box outside the image, a
mask of another size) raises an error naming it before anything changes.

Coordinates: pixel (i, j) has its centre at x = j, y = i. rotate() turns counter-clockwise
about ((W - 1) / 2, (H - 1) / 2) and equals scipy.ndimage.rotate(channel, angle,
reshape=False, order=1, mode='constant'); affine() and resize() equal SciPy's
affine_transform and zoom(grid_mode=True) for the same maps (functional.py).

    base.py          Transform, Compose, RandomChoice, ToTensor, Normalize
    functional.py    the deterministic functional forms: hflip, crop, resize, rotate, affine,
                     elastic, adjust_brightness ... (each usable alone)
    sampling.py      the one bilinear / nearest gather behind resize, rotate, affine, elastic
    targets.py       checking and moving boxes, masks and labels
    geometric.py     RandomHorizontalFlip, RandomCrop, RandomResizedCrop, RandomAffine, ...
    photometric.py   ColorJitter, RandomGrayscale, GaussianBlur, RandomErasing, ...
    mixing.py        MixUp, CutMix: batch level, soft labels
    policies.py      augmentation_policy('none' | 'basic' | 'strong')
"""
from . import functional
from .base import Compose, Normalize, RandomChoice, ToTensor, Transform
from .geometric import (CenterCrop, ElasticTransform, Pad, RandomAffine, RandomCrop,
                        RandomHorizontalFlip, RandomResizedCrop, RandomRotation,
                        RandomVerticalFlip, Resize)
from .mixing import CutMix, MixUp
from .photometric import (ColorJitter, GaussianBlur, GaussianNoise, RandomErasing,
                          RandomGrayscale, RandomIllumination)
from .policies import POLICIES, augmentation_policy

__all__ = ["CenterCrop", "ColorJitter", "Compose", "CutMix", "ElasticTransform", "GaussianBlur",
           "GaussianNoise", "MixUp", "Normalize", "POLICIES", "Pad", "RandomAffine",
           "RandomChoice", "RandomCrop", "RandomErasing", "RandomGrayscale",
           "RandomHorizontalFlip", "RandomIllumination", "RandomResizedCrop", "RandomRotation",
           "RandomVerticalFlip", "Resize", "ToTensor", "Transform", "augmentation_policy",
           "functional"]
