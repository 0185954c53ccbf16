"""The mask branch of Mask R-CNN (He et al. 2017), small: a shape for every detected object.

For each box, RoIAlign cuts a 14 x 14 grid out of the feature map; two 3x3 convolutions, a
2x transposed convolution and a 1x1 convolution give a 28 x 28 map of mask logits per class.
Only the map of the box's class is used, so the classes do not compete for pixels.

Training, as torchvision's: for the box head's sampled positive proposals, the target is
the matched object's mask cut out along the proposal with RoIAlign itself (28 x 28, values
in [0, 1] at the mask's edges); the loss is the binary cross-entropy with logits of the
true class's map (mean over pixels and proposals).

Inference: the detected boxes' maps of their detected class, through a sigmoid, are pasted
back into the image (paste_masks: each image pixel reads the 28 x 28 map bilinearly at its
centre) and thresholded at 0.5.
"""
import numpy

from .. import functional as F
from .. import nn
from ..autograd import Tensor, no_grad
from ..backend import to_numpy

__all__ = ["MaskHead", "paste_masks"]


class MaskHead(nn.Module):
    def __init__(self, in_channels, num_classes, stride, resolution=14, channels=32):
        super().__init__()
        self.stride, self.resolution = stride, resolution
        self.convs = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU(),
                                   nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU())
        self.upsample = nn.ConvTranspose2d(channels, channels, 2, stride=2)
        self.logits = nn.Conv2d(channels, num_classes, 1)

    def forward(self, feature, boxes):
        """Mask logits (R, K, 2 resolution, 2 resolution) of boxes, one (P_i, 4) array per image."""
        regions = F.roi_align(feature, boxes, self.resolution, 1.0 / self.stride,
                              sampling_ratio=2, aligned=True)
        return self.logits(F.relu(self.upsample(self.convs(regions))))

    def loss(self, feature, positives, masks, labels):
        """{"mask"}: positives, per image (proposal boxes, index of the matched object);
        masks, per image (K_i, H, W) 0/1; labels, per image (K_i,)."""
        boxes = [p for p, _ in positives]
        if sum(len(b) for b in boxes) == 0:                 # no object anywhere in the batch
            return {"mask": (feature * 0).sum()}
        logits = self(feature, boxes)
        size = logits.shape[-1]
        targets, classes = [], []
        for (proposals, matched), image_masks, image_labels in zip(positives, masks, labels):
            if len(proposals) == 0:
                continue
            planes = Tensor(numpy.asarray(image_masks, numpy.float32)[:, None])
            rois = numpy.concatenate([matched[:, None].astype(numpy.float64), proposals], axis=1)
            with no_grad():
                targets.append(to_numpy(F.roi_align(planes, rois, size, 1.0, sampling_ratio=2,
                                                    aligned=True).data)[:, 0])
            classes.append(image_labels[matched])
        classes = numpy.concatenate(classes)
        chosen = logits[numpy.arange(len(classes)), classes]
        return {"mask": F.binary_cross_entropy_with_logits(
            chosen, numpy.concatenate(targets).astype(chosen.dtype))}

    def predict(self, feature, detections, image_size):
        """Adds 'masks' (D, H, W) uint8 to each image's detections."""
        boxes = [d["boxes"] for d in detections]
        if sum(len(b) for b in boxes):
            with no_grad():
                logits = to_numpy(self(feature, boxes).data)
        start = 0
        for found in detections:
            end = start + len(found["boxes"])
            chosen = logits[numpy.arange(start, end), found["labels"]] if end > start else None
            probabilities = 1 / (1 + numpy.exp(-chosen)) if chosen is not None else numpy.zeros((0, 1, 1))
            found["masks"] = (paste_masks(probabilities, found["boxes"], image_size) >= 0.5).astype(numpy.uint8)
            start = end
        return detections


def paste_masks(probabilities, boxes, image_size):
    """(D, H, W) float: each (m x m) map stretched over its box; a pixel whose centre lies in
    the box reads the map bilinearly (map cell (i, j) centred at x0 + (j + 1/2) w / m),
    clamped at the map's edge; pixels outside the box get 0."""
    height, width = image_size
    pasted = numpy.zeros((len(boxes), height, width), numpy.float32)
    for k, (grid, box) in enumerate(zip(probabilities, numpy.asarray(boxes, numpy.float64))):
        size = grid.shape[0]
        x0, y0, x1, y1 = box
        columns = numpy.arange(max(0, int(numpy.floor(x0))), min(width, int(numpy.ceil(x1))))
        rows = numpy.arange(max(0, int(numpy.floor(y0))), min(height, int(numpy.ceil(y1))))
        columns = columns[(columns + 0.5 >= x0) & (columns + 0.5 < x1)]
        rows = rows[(rows + 0.5 >= y0) & (rows + 0.5 < y1)]
        if not len(columns) or not len(rows):
            continue
        u = numpy.clip((columns + 0.5 - x0) * size / max(x1 - x0, 1e-6) - 0.5, 0, size - 1)
        v = numpy.clip((rows + 0.5 - y0) * size / max(y1 - y0, 1e-6) - 0.5, 0, size - 1)
        u0, v0 = numpy.floor(u).astype(int), numpy.floor(v).astype(int)
        u1, v1 = numpy.minimum(u0 + 1, size - 1), numpy.minimum(v0 + 1, size - 1)
        du, dv = (u - u0)[None, :], (v - v0)[:, None]
        value = ((1 - dv) * ((1 - du) * grid[v0][:, u0] + du * grid[v0][:, u1])
                 + dv * ((1 - du) * grid[v1][:, u0] + du * grid[v1][:, u1]))
        pasted[k][numpy.ix_(rows, columns)] = value
    return pasted
