"""The U-Net paper's weight map: heavy weights on the thin background lines between touching
nuclei, so that the loss cannot ignore them.

    w(x) = w_c(x) + w0 exp(-(d1(x) + d2(x))^2 / (2 sigma^2))

d1 and d2 are the distances from pixel x to the nearest and the second-nearest nucleus
(SciPy's exact Euclidean distance transform, one per nucleus), w_c balances the class
frequencies, and the paper takes w0 = 10 and sigma = 5 pixels. Between two nuclei a few
pixels apart d1 + d2 is small and w is close to w0; far from all nuclei, or beside only one,
it falls to w_c. The border term is added on background pixels, where the separating lines
are (as most reimplementations do: inside a nucleus the distance to the nearest nucleus is
0, and the term would weight the inside of nuclei instead of the gaps).
"""
import numpy

from ..data import TensorDataset


def ndimage():
    """scipy.ndimage, or an error saying how to install it."""
    try:
        from scipy import ndimage as module
    except ImportError:
        raise ModuleNotFoundError("minicnn.segmentation needs SciPy for distance transforms and "
                                  "connected components: pip install -e \".[segment]\"") from None
    return module


def balanced_class_weights(masks, num_classes):
    """w_c = pixels / (num_classes * pixels of class c): every class weighs as much in all,
    as scikit-learn's class_weight="balanced". A class with no pixel gets weight 0."""
    counts = numpy.bincount(numpy.asarray(masks).ravel(), minlength=num_classes).astype(numpy.float64)
    if len(counts) > num_classes:
        raise ValueError(f"balanced_class_weights: masks hold class {len(counts) - 1}, but "
                         f"num_classes is {num_classes}")
    return numpy.where(counts > 0, counts.sum() / (num_classes * numpy.maximum(counts, 1)), 0.0)


def nearest_two_distances(instances):
    """d1, d2 (H, W): the Euclidean distance from every pixel to the nearest and the
    second-nearest instance of `instances` (H, W) (0 = background, 1.. = instances);
    infinite where there are not that many instances."""
    labels = [label for label in numpy.unique(instances) if label != 0]
    distances = numpy.full((max(len(labels), 2),) + instances.shape, numpy.inf)
    for row, label in enumerate(labels):
        distances[row] = ndimage().distance_transform_edt(instances != label)
    nearest = numpy.partition(distances, 1, axis=0)
    return nearest[0], nearest[1]


def unet_weight_map(instances, w0=10.0, sigma=5.0, class_weights=None):
    """The weight map (H, W) or (N, H, W) float32 of instance labels of that shape.

    class_weights: (background, foreground) weights w_c; by default balanced over all the
    images given (balanced_class_weights), so one weight map set shares one w_c.
    """
    instances = numpy.asarray(instances)
    if instances.ndim not in (2, 3) or instances.dtype.kind not in "iu":
        raise ValueError(f"unet_weight_map: instances must be integer labels (H, W) or "
                         f"(N, H, W), got dtype {instances.dtype} and shape {instances.shape}")
    if sigma <= 0 or w0 < 0:
        raise ValueError(f"unet_weight_map: sigma must be > 0 and w0 >= 0, got sigma={sigma}, "
                         f"w0={w0}")
    foreground = (instances > 0).astype(numpy.int64)
    if class_weights is None:
        class_weights = balanced_class_weights(foreground, 2)
    weights = numpy.asarray(class_weights, dtype=numpy.float64)[foreground]
    batch = instances if instances.ndim == 3 else instances[None]
    border = numpy.stack([_border_term(labels, w0, sigma) for labels in batch])
    return (weights + border.reshape(instances.shape)).astype(numpy.float32)


def _border_term(labels, w0, sigma):
    """w0 exp(-(d1 + d2)^2 / (2 sigma^2)) on the background; exp(-inf) = 0 where fewer than
    two instances exist."""
    d1, d2 = nearest_two_distances(labels)
    return numpy.where(labels == 0, w0 * numpy.exp(-(d1 + d2) ** 2 / (2 * sigma ** 2)), 0.0)


def weighted_training_set(dataset, w0=10.0, sigma=5.0):
    """(image, mask, weight map) samples from a dataset that knows its instance labels
    (`dataset.instances`, as the cells set does), for SegmentationTask's weighted loss."""
    if getattr(dataset, "instances", None) is None:
        raise ValueError(f"weighted_training_set: the weight map needs instance labels, and "
                         f"{type(dataset).__name__} has none (the cells set has them)")
    weighted = TensorDataset(*dataset.arrays, unet_weight_map(dataset.instances, w0, sigma),
                             transform=dataset.transform)
    weighted.classes, weighted.task = dataset.classes, dataset.task
    return weighted
