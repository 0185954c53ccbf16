"""Datasets by name: get_dataset('mnist5k', train=False) and friends.

mnist5k and digits read files shipped in installed packages; mnist, fashion_mnist and
cifar10 read their original files from `root`; shapes and scenes (detection) are generated.
"""
from .cifar import CIFAR10, read_cifar_binary
from .digits import Digits
from .idx import MNIST, FashionMNIST, read_idx
from .mnist5k import MNIST5k
from .scenes import ScenesDataset, make_scene
from .shapes import SHAPES, ShapesDataset, make_shapes

__all__ = ["CIFAR10", "DETECTION_DATASETS", "Digits", "FashionMNIST", "MNIST", "MNIST5k", "SHAPES",
           "ScenesDataset", "ShapesDataset", "get_dataset", "make_scene", "make_shapes",
           "read_cifar_binary", "read_idx", "DATASETS"]


def _shapes(train, transform, root):
    # Train and test differ by seed, so no test image is ever seen in training.
    return ShapesDataset(4000 if train else 1000, seed=0 if train else 1, transform=transform)


def _scenes(train, transform, root):
    # Held-out scenes come from another seed; a detection transform takes (image, target).
    return ScenesDataset(2000 if train else 500, seed=0 if train else 1, transform=transform)


DATASETS = {
    "mnist5k": lambda train, transform, root: MNIST5k(train, transform),
    "digits": lambda train, transform, root: Digits(train, transform),
    "shapes": _shapes,
    "mnist": lambda train, transform, root: MNIST(root, train, transform),
    "fashion_mnist": lambda train, transform, root: FashionMNIST(root, train, transform),
    "cifar10": lambda train, transform, root: CIFAR10(root, train, transform),
    "scenes": _scenes,
}
# Samples (image, target dict of boxes, labels, masks): trained with --task detect.
DETECTION_DATASETS = ("scenes",)


def get_dataset(name, train=True, transform=None, root="data"):
    """The train or test split of a dataset by name (`root`: where file-based datasets live)."""
    if name not in DATASETS:
        raise ValueError(f"get_dataset: unknown dataset {name!r}; choose from "
                         f"{', '.join(DATASETS)}")
    return DATASETS[name](train, transform, root)
