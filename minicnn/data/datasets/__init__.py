"""Datasets by name: get_dataset('mnist5k', train=False) and friends.

mnist5k and digits read files shipped in installed packages; mnist, fashion_mnist and
cifar10 read their original files from `root`; shapes, shapes-segment, cells and scenes are
generated. A dataset whose `task` attribute is "segment" gives (image, mask) samples; scenes
gives (image, target) samples for detection (DETECTION_DATASETS). The transfer-learning
problems are cut from them: mnist5k-0to4 (the pretraining task) and mnist5k-5to9 (a new
task in the same domain) hold half of mnist5k's classes each, digits28 is scikit-learn's
digits enlarged to MNIST's 28x28 (the same task in another domain).
"""
from ..class_subsets import select_classes
from .cells import CellsDataset, make_cells
from .cifar import CIFAR10, read_cifar_binary
from .digits import Digits, DigitsAsMNIST
from .idx import MNIST, FashionMNIST, read_idx
from .mnist5k import MNIST5k
from .scenes import ScenesDataset, make_scene
from .shapes import SHAPES, ShapesDataset, make_shapes

__all__ = ["CIFAR10", "CellsDataset", "DETECTION_DATASETS", "Digits", "DigitsAsMNIST",
           "FashionMNIST", "MNIST", "MNIST5k", "SHAPES", "ScenesDataset", "ShapesDataset",
           "get_dataset", "make_cells", "make_scene", "make_shapes", "read_cifar_binary",
           "read_idx", "DATASETS", "SEGMENTATION_DATASETS"]


def _shapes(train, transform, root):
    # Train and test differ by seed, so no test image is ever seen in training.
    return ShapesDataset(4000 if train else 1000, seed=0 if train else 1, transform=transform)


def _shapes_segment(train, transform, root):
    return ShapesDataset(4000 if train else 1000, seed=0 if train else 1, task="segment",
                         transform=transform)


def _cells(train, transform, root):
    return CellsDataset(400 if train else 100, seed=0 if train else 1, transform=transform)


def _scenes(train, transform, root):
    # Held-out scenes come from another seed; a detection transform takes (image, target).
    return ScenesDataset(2000 if train else 500, seed=0 if train else 1, transform=transform)


DATASETS = {
    "mnist5k": lambda train, transform, root: MNIST5k(train, transform),
    "digits": lambda train, transform, root: Digits(train, transform),
    "shapes": _shapes,
    "shapes-segment": _shapes_segment,
    "cells": _cells,
    "mnist": lambda train, transform, root: MNIST(root, train, transform),
    "fashion_mnist": lambda train, transform, root: FashionMNIST(root, train, transform),
    "cifar10": lambda train, transform, root: CIFAR10(root, train, transform),
    "mnist5k-0to4": lambda train, transform, root: select_classes(MNIST5k(train, transform),
                                                                  range(0, 5)),
    "mnist5k-5to9": lambda train, transform, root: select_classes(MNIST5k(train, transform),
                                                                  range(5, 10)),
    "digits28": lambda train, transform, root: DigitsAsMNIST(train, transform),
    "scenes": _scenes,
}
# Samples (image, target dict of boxes, labels, masks): trained with --task detect.
DETECTION_DATASETS = ("scenes",)

# Datasets whose samples are (image, mask): the command line trains them as segmentation.
SEGMENTATION_DATASETS = ("shapes-segment", "cells")


def get_dataset(name, train=True, transform=None, root="data"):
    """The train or test split of a dataset by name (`root`: where file-based datasets live)."""
    if name not in DATASETS:
        raise ValueError(f"get_dataset: unknown dataset {name!r}; choose from "
                         f"{', '.join(DATASETS)}")
    return DATASETS[name](train, transform, root)
