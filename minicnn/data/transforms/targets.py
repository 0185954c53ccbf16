"""The targets that travel with an image (boxes, masks, labels): checked, then moved.

One image's target is a dict (see the package docstring):

    boxes   (K, 4) floats x0, y0, x1, y1 in pixels: edges, x1 and y1 exclusive, so a box
            around pixel columns 3..5 is x0 = 3, x1 = 6; 0 <= x0 <= x1 <= W, 0 <= y0 <= y1 <= H
    masks   (H, W) integer map (semantic classes), or (K, H, W) integer maps; with boxes,
            the k-th of K masks belongs to the k-th box
    labels  (K,) one per box
    any other key is carried along unchanged.

A batch (N, C, H, W) takes a list of N such dicts. Checking happens before anything is
drawn or computed, so a bad target leaves the images, the targets and the random
generator as they were.
"""
import numbers

import numpy


def check_targets(op, target, batch, batched):
    """The target(s) of `batch` (N, C, H, W) as a list of N checked dicts, or None."""
    if target is None:
        return None
    if not batched:
        targets = [target]
    elif isinstance(target, (list, tuple)) and len(target) == len(batch):
        targets = list(target)
    else:
        got = f"a {type(target).__name__} of {len(target)}" if isinstance(target, (list, tuple)) \
            else f"a {type(target).__name__}"
        raise TypeError(f"{op}: 'target' of a batch of {len(batch)} images must be a list of "
                        f"{len(batch)} dicts, got {got}")
    height, width = batch.shape[-2:]
    return [_check_target(op, t, height, width) for t in targets]


def _check_target(op, target, height, width):
    if not isinstance(target, dict):
        raise TypeError(f"{op}: 'target' must be a dict with 'boxes', 'masks' and/or 'labels', "
                        f"got {type(target).__name__}")
    target = dict(target)
    boxes = target.get("boxes")
    if boxes is not None:
        boxes = numpy.asarray(boxes)
        if boxes.ndim != 2 or boxes.shape[1] != 4 or boxes.dtype.kind not in "iuf":
            raise ValueError(f"{op}: target['boxes'] must be numbers of shape (K, 4) "
                             f"(x0, y0, x1, y1), got shape {boxes.shape} of dtype {boxes.dtype}")
        x0, y0, x1, y1 = boxes.T
        wrong = ~((0 <= x0) & (x0 <= x1) & (x1 <= width) & (0 <= y0) & (y0 <= y1) & (y1 <= height))
        if wrong.any():
            k = int(numpy.argmax(wrong))
            raise ValueError(f"{op}: target['boxes'][{k}] = {tuple(boxes[k].tolist())} is not a "
                             f"box inside the image: expected 0 <= x0 <= x1 <= {width} and "
                             f"0 <= y0 <= y1 <= {height} (image of height {height}, width {width})")
        target["boxes"] = boxes.astype(boxes.dtype if boxes.dtype.kind == "f" else numpy.float32)
    masks = target.get("masks")
    if masks is not None:
        masks = numpy.asarray(masks)
        if masks.ndim not in (2, 3) or masks.shape[-2:] != (height, width):
            raise ValueError(f"{op}: target['masks'] must be (H, W) or (K, H, W) with the image's "
                             f"size ({height}, {width}), got shape {masks.shape}")
        if masks.dtype.kind not in "iub":
            raise TypeError(f"{op}: target['masks'] must hold integer (or boolean) maps, got "
                            f"dtype {masks.dtype}; masks are resampled by nearest neighbour only")
        if boxes is not None and masks.ndim == 3 and len(masks) != len(boxes):
            raise ValueError(f"{op}: target['masks'] holds {len(masks)} masks but "
                             f"target['boxes'] {len(boxes)} boxes; (K, H, W) masks belong one "
                             f"to each box")
        target["masks"] = masks
    labels = target.get("labels")
    if labels is not None and not isinstance(labels, numbers.Number):
        labels = numpy.asarray(labels)
        if boxes is not None and (labels.ndim != 1 or len(labels) != len(boxes)):
            raise ValueError(f"{op}: target['labels'] must hold one label per box, shape "
                             f"({len(boxes)},), got shape {labels.shape}")
        target["labels"] = labels
    return target


def move_target(target, move_boxes, move_masks, out_height, out_width):
    """A new target dict: boxes moved by `move_boxes(boxes)` and clipped to the output image,
    boxes left with no area dropped with their labels (and their masks), masks moved by
    `move_masks(masks)`."""
    moved = dict(target)
    boxes = target.get("boxes")
    if boxes is not None:
        boxes = move_boxes(boxes.astype(numpy.float64))
        boxes[:, 0::2] = numpy.clip(boxes[:, 0::2], 0, out_width)
        boxes[:, 1::2] = numpy.clip(boxes[:, 1::2], 0, out_height)
        # Judged in the boxes' own dtype: a sliver of float64 can round to no area in float32.
        boxes = boxes.astype(target["boxes"].dtype)
        kept = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        moved["boxes"] = boxes[kept]
        if isinstance(target.get("labels"), numpy.ndarray):
            moved["labels"] = target["labels"][kept]
        if target.get("masks") is not None and target["masks"].ndim == 3:
            moved["masks"] = target["masks"][kept]
    if moved.get("masks") is not None:
        moved["masks"] = move_masks(moved["masks"])
    return moved


def boxes_by_matrix(boxes, matrix):
    """Boxes (K, 4) moved by the forward map `matrix` (3, 3) of edge coordinates (x, y, 1):
    the smallest box holding the four moved corners, as torchvision.transforms.v2 does. For
    flips, crops, padding, resizing and quarter turns this is exact; for other rotations
    and shears it is the box around the turned box."""
    x0, y0, x1, y1 = boxes.T
    x = numpy.stack([x0, x1, x0, x1], axis=1)
    y = numpy.stack([y0, y0, y1, y1], axis=1)
    moved_x = matrix[0, 0] * x + matrix[0, 1] * y + matrix[0, 2]
    moved_y = matrix[1, 0] * x + matrix[1, 1] * y + matrix[1, 2]
    return numpy.stack([moved_x.min(1), moved_y.min(1), moved_x.max(1), moved_y.max(1)], axis=1)


def boxes_by_sample_points(boxes, rows, cols):
    """Boxes (K, 4) moved by a map known only backwards: the box of the output pixels whose
    sample points (rows, cols (H', W'), pixel centres) fall inside each box. A box that no
    sample point falls in comes back with no area (and is dropped by move_target)."""
    x, y = cols + 0.5, rows + 0.5          # pixel centres in edge coordinates
    x0, y0, x1, y1 = (edge[:, None, None] for edge in boxes.T)
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)                   # (K, H', W')
    any_column, any_row = inside.any(axis=1), inside.any(axis=2)
    height, width = rows.shape
    moved = numpy.stack([numpy.argmax(any_column, 1), numpy.argmax(any_row, 1),
                         width - numpy.argmax(any_column[:, ::-1], 1),
                         height - numpy.argmax(any_row[:, ::-1], 1)], axis=1).astype(numpy.float64)
    moved[~any_column.any(axis=1)] = 0
    return moved
