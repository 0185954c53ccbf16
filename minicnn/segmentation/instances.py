"""From a semantic mask to instances: which foreground pixels belong to which nucleus.

Three ways, from the simplest:

- connected_components: every connected piece of foreground is one instance. Right when
  the network drew the background line between touching nuclei (what the weight map
  teaches it); two nuclei joined by a single pixel become one.
- watershed_instances: the distance transform peaks in the middle of each nucleus; seeds
  at its local maxima flood the foreground (scikit-image's watershed), so a waist between
  two round nuclei becomes a boundary even where the mask joins them.
- a border class, as the paper suggests for touching objects: the network learns three
  classes (background, interior, border; border_class_targets makes the targets), the
  interiors are well apart, and each border pixel joins the nearest interior
  (instances_from_border_class).
"""
import numpy

from ..data.datasets.cells import neighbour_labels
from .weight_map import ndimage

BORDER_CLASSES = ("background", "interior", "border")


def connected_components(mask):
    """Instance labels (H, W) int32 of a boolean or 0/1 mask (H, W): its 4-connected pieces,
    numbered 1, 2, ... (scipy.ndimage.label)."""
    labels, _ = ndimage().label(numpy.asarray(mask) > 0)
    return labels.astype(numpy.int32)


def watershed_instances(mask, min_distance=3):
    """Instance labels (H, W) of a mask, touching round objects split by the watershed of
    the negated distance transform from its peaks at least `min_distance` pixels apart.
    Needs scikit-image."""
    try:
        from skimage.feature import peak_local_max
        from skimage.segmentation import watershed
    except ImportError:
        raise ModuleNotFoundError("watershed_instances needs scikit-image: pip install -e "
                                  "\".[segment]\"") from None
    foreground = numpy.asarray(mask) > 0
    distance = ndimage().distance_transform_edt(foreground)
    # One peak per connected piece at least (labels=...), so no piece is left without a seed.
    peaks = peak_local_max(distance, min_distance=min_distance, exclude_border=False,
                           labels=connected_components(foreground))
    markers = numpy.zeros(foreground.shape, numpy.int32)
    markers[tuple(peaks.T)] = numpy.arange(1, len(peaks) + 1)
    return watershed(-distance, markers, mask=foreground).astype(numpy.int32)


def border_class_targets(instances):
    """Three-class targets (H, W) int64 of instance labels: 0 background, 1 interior, 2 the
    instance's own outermost pixels (those with a 4-neighbour outside the instance)."""
    instances = numpy.asarray(instances)
    edge = (neighbour_labels(instances) != instances).any(axis=0)
    targets = (instances > 0).astype(numpy.int64)
    targets[(instances > 0) & edge] = 2
    return targets


def instances_from_border_class(classes):
    """Instance labels (H, W) of a predicted three-class map (see border_class_targets): the
    interiors' connected components, each border pixel given to the nearest interior."""
    classes = numpy.asarray(classes)
    interiors = connected_components(classes == 1)
    if not interiors.any():
        return interiors
    # For every pixel, the coordinates of the nearest interior pixel.
    _, (rows, cols) = ndimage().distance_transform_edt(interiors == 0, return_indices=True)
    return numpy.where(classes > 0, interiors[rows, cols], 0).astype(numpy.int32)
