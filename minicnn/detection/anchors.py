"""Anchors: the fixed boxes a detector starts from, a few shapes at every feature-map cell.

A detector does not predict boxes from nothing: at each cell of a feature map it scores a
few reference boxes (anchors, or SSD's default boxes) of several sizes and aspect ratios
and predicts each one's offsets (coder.py). Aspect ratio is height / width throughout.

    AnchorGenerator(sizes, aspect_ratios)      Faster R-CNN's, with torchvision's semantics:
        per feature map, base anchors centred on 0 of every size s and ratio r,
        h = s sqrt(r), w = s / sqrt(r), corners rounded to whole pixels; copied to the
        top-left corner (j * stride_x, i * stride_y) of every cell, stride = image // grid
        (integer division, as torchvision). Anchors are ordered cell by cell (row-major),
        then ratio-major within the cell: index (i W + j) A + r S + s.

    generate_anchors(base_size=16, ratios=(0.5, 1, 2), scales=(8, 16, 32))
        py-faster-rcnn's original base anchors, in its convention of inclusive pixel corners
        (width = x1 - x0 + 1) centred on the first cell's centre ((16 - 1) / 2 = 7.5), with
        its rounding (widths rounded before the scales multiply them). Pass them as
        AnchorGenerator(base_anchors=[...]) to get py-faster-rcnn's anchor grid.

    DefaultBoxGenerator(aspect_ratios, min_ratio=0.15, max_ratio=0.9, scales=None, steps=None)
        SSD's (Liu et al. 2016), with torchvision's semantics: for feature map k of m the
        scale s_k = s_min + (s_max - s_min)(k - 1)/(m - 1) (then 1.0 for the extra one), boxes
        of side s_k, of side sqrt(s_k s_{k+1}), and for each ratio a of that map the pair
        (s_k sqrt(a), s_k / sqrt(a)) and its transpose, i.e. ratios a and 1/a; sides are
        fractions of the image, clipped to [0, 1], centred on cell centres ((j + 0.5) / f_k,
        or (j + 0.5) step / image with `steps`). SSD300's configuration gives 8,732 boxes.

Both generators return one (N, 4) float32 NumPy array of xyxy boxes in image pixels for an
image size (height, width) and the feature-map sizes [(h_1, w_1), ...]: every image of a
batch has the same size here, so the anchors are made once per batch.
"""
import math

import numpy

__all__ = ["AnchorGenerator", "DefaultBoxGenerator", "generate_anchors"]


def generate_anchors(base_size=16, ratios=(0.5, 1, 2), scales=(8, 16, 32)):
    """py-faster-rcnn's generate_anchors(): (len(ratios) * len(scales), 4) float64 anchors
    (x0, y0, x1, y1) with inclusive corners, ratio-major. For the defaults, row 0 is
    (-84, -40, 99, 55): ratio 0.5 gives w = round(sqrt(256 / 0.5)) = 23, h = round(23 * 0.5)
    = 12 (NumPy rounds half to even), times 8 = 184 x 96, centred on 7.5."""
    ratios, scales = numpy.asarray(ratios, numpy.float64), numpy.asarray(scales, numpy.float64)
    centre = (base_size - 1) / 2
    widths = numpy.round(numpy.sqrt(base_size * base_size / ratios))
    heights = numpy.round(widths * ratios)
    widths = (widths[:, None] * scales[None, :]).ravel()
    heights = (heights[:, None] * scales[None, :]).ravel()
    return numpy.stack([centre - 0.5 * (widths - 1), centre - 0.5 * (heights - 1),
                        centre + 0.5 * (widths - 1), centre + 0.5 * (heights - 1)], axis=1)


def _check_levels(op, feature_sizes, levels):
    feature_sizes = [tuple(int(s) for s in size) for size in feature_sizes]
    if len(feature_sizes) != levels or any(len(s) != 2 or min(s) < 1 for s in feature_sizes):
        raise ValueError(f"{op}: feature_sizes must be {levels} (height, width) pairs, one per "
                         f"feature map it was built for, got {feature_sizes}")
    return feature_sizes


class AnchorGenerator:
    """Faster R-CNN anchors over feature maps (module docstring). sizes[k] and
    aspect_ratios[k] belong to feature map k; base_anchors, if given, replaces them by
    explicit (A, 4) base anchors per map."""

    def __init__(self, sizes=((128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),),
                 base_anchors=None):
        if base_anchors is not None:
            self.cell_anchors = [numpy.asarray(b, numpy.float64).reshape(-1, 4) for b in base_anchors]
            return
        if len(sizes) != len(aspect_ratios):
            raise ValueError(f"AnchorGenerator: sizes and aspect_ratios need one entry per "
                             f"feature map, got {len(sizes)} and {len(aspect_ratios)}")
        if any(s <= 0 for level in sizes for s in level) or \
                any(r <= 0 for level in aspect_ratios for r in level):
            raise ValueError(f"AnchorGenerator: sizes and aspect ratios must be positive, got "
                             f"{sizes} and {aspect_ratios}")
        self.cell_anchors = [self._base_anchors(s, r) for s, r in zip(sizes, aspect_ratios)]

    @staticmethod
    def _base_anchors(sizes, ratios):
        h_ratios = numpy.sqrt(numpy.asarray(ratios, numpy.float64))
        widths = (1 / h_ratios[:, None] * numpy.asarray(sizes, numpy.float64)[None, :]).ravel()
        heights = (h_ratios[:, None] * numpy.asarray(sizes, numpy.float64)[None, :]).ravel()
        return numpy.round(numpy.stack([-widths, -heights, widths, heights], axis=1) / 2)

    def num_anchors_per_location(self):
        return [len(base) for base in self.cell_anchors]

    def __call__(self, image_size, feature_sizes):
        """(N, 4) float32 anchors for an image (height, width) and the maps' (h, w) sizes."""
        feature_sizes = _check_levels("AnchorGenerator", feature_sizes, len(self.cell_anchors))
        anchors = []
        for (grid_h, grid_w), base in zip(feature_sizes, self.cell_anchors):
            stride_y, stride_x = image_size[0] // grid_h, image_size[1] // grid_w
            shift_y, shift_x = numpy.meshgrid(numpy.arange(grid_h) * stride_y,
                                              numpy.arange(grid_w) * stride_x, indexing="ij")
            shifts = numpy.stack([shift_x, shift_y, shift_x, shift_y], axis=-1).reshape(-1, 1, 4)
            anchors.append((shifts + base[None]).reshape(-1, 4))
        return numpy.concatenate(anchors).astype(numpy.float32)


class DefaultBoxGenerator:
    """SSD default boxes (module docstring). aspect_ratios[k] lists the ratios a > 1 of map k
    (each gives a and 1/a); scales, if given, has one more entry than there are maps."""

    def __init__(self, aspect_ratios, min_ratio=0.15, max_ratio=0.9, scales=None, steps=None,
                 clip=True):
        levels = len(aspect_ratios)
        if scales is None:
            scales = ([min_ratio + (max_ratio - min_ratio) * k / (levels - 1) for k in range(levels)]
                      + [1.0] if levels > 1 else [min_ratio, max_ratio])
        if len(scales) != levels + 1:
            raise ValueError(f"DefaultBoxGenerator: scales needs {levels + 1} entries for "
                             f"{levels} feature maps (the last one only for the extra box), "
                             f"got {len(scales)}")
        if steps is not None and len(steps) != levels:
            raise ValueError(f"DefaultBoxGenerator: steps needs one entry per feature map "
                             f"({levels}), got {len(steps)}")
        self.aspect_ratios, self.scales, self.steps, self.clip = aspect_ratios, scales, steps, clip
        self.wh_pairs = []
        for k, ratios in enumerate(aspect_ratios):
            extra = math.sqrt(scales[k] * scales[k + 1])
            pairs = [[scales[k], scales[k]], [extra, extra]]
            for ratio in ratios:
                root = math.sqrt(ratio)
                pairs += [[scales[k] * root, scales[k] / root], [scales[k] / root, scales[k] * root]]
            pairs = numpy.asarray(pairs, numpy.float64)
            self.wh_pairs.append(numpy.clip(pairs, 0, 1) if clip else pairs)

    def num_anchors_per_location(self):
        return [2 + 2 * len(ratios) for ratios in self.aspect_ratios]

    def __call__(self, image_size, feature_sizes):
        """(N, 4) float32 xyxy default boxes in pixels for an image (height, width)."""
        feature_sizes = _check_levels("DefaultBoxGenerator", feature_sizes, len(self.wh_pairs))
        height, width = image_size
        boxes = []
        for k, (grid_h, grid_w) in enumerate(feature_sizes):
            # Cells per image side: the map's size, or image / step (SSD300's 300 / 8 = 37.5
            # for a 38-cell map puts the centres on the step grid, 4, 12, ... pixels).
            cells_y, cells_x = ((height / self.steps[k], width / self.steps[k]) if self.steps
                                else (grid_h, grid_w))
            centre_y, centre_x = numpy.meshgrid((numpy.arange(grid_h) + 0.5) / cells_y,
                                                (numpy.arange(grid_w) + 0.5) / cells_x, indexing="ij")
            centres = numpy.stack([centre_x, centre_y], axis=-1).reshape(-1, 1, 2)
            shape = (len(centres), len(self.wh_pairs[k]), 2)       # (cells, boxes per cell, 2)
            boxes.append(numpy.concatenate([numpy.broadcast_to(centres, shape),
                                            numpy.broadcast_to(self.wh_pairs[k], shape)],
                                           axis=-1).reshape(-1, 4))
        relative = numpy.concatenate(boxes) * numpy.array([width, height, width, height])
        corners = numpy.concatenate([relative[:, :2] - relative[:, 2:] / 2,
                                     relative[:, :2] + relative[:, 2:] / 2], axis=1)
        return corners.astype(numpy.float32)
