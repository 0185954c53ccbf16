"""Checks shared by the layers, so that a wrong size or shape is reported by the layer that
received it, in the layer's own terms:

    Linear: in_features must be a positive integer, got -1
    Conv2d(1, 6, kernel_size=5): expected input of shape (N, 1, H, W), got (8, 3, 28, 28)
"""
import numbers


def check_sizes(layer_name, **sizes):
    """Raise ValueError unless every size (a number of features, channels, groups...) is a
    positive integer; checked before any weight is allocated with it."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{layer_name}: {name} must be a positive integer, got {value!r}")


def check_input(layer, x, *patterns):
    """Raise ValueError unless x.shape fits one of `patterns`.

    A pattern is a tuple of sizes: an int must match exactly, a string (a dimension's name
    such as "N" or "H") matches any size; "*" matches any number of dimensions.
    """
    if any(_fits(tuple(x.shape), pattern) for pattern in patterns):
        return
    expected = " or ".join("(" + ", ".join(str(size) for size in pattern) + ")"
                           for pattern in patterns)
    raise ValueError(f"{layer.describe()}: expected input of shape {expected}, "
                     f"got {tuple(x.shape)}")


def _fits(shape, pattern):
    if "*" in pattern:
        star = pattern.index("*")
        head, tail = pattern[:star], pattern[star + 1:]
        return (len(shape) >= len(head) + len(tail) and _fits(shape[:len(head)], head)
                and _fits(shape[len(shape) - len(tail):], tail))
    return len(shape) == len(pattern) and all(
        isinstance(size, str) or size == actual for size, actual in zip(pattern, shape))
