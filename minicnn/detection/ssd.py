"""SSDLite: a one-stage detector in the style of SSD (Liu et al. 2016), small enough to train
on a CPU in minutes.

    images (N, 3, S, S) -> Backbone -> feature maps at strides 4, 8, 16
    each map k -> conv 3x3 -> A_k (K + 1) class logits  and  conv 3x3 -> A_k x 4 box codes
    default boxes (anchors.DefaultBoxGenerator): per cell A_k = 4 boxes of scales s_k and
    sqrt(s_k s_{k+1}) and ratios 2 and 1/2, s_k = 0.14 .. 0.5 of the image

Training (compute_loss), as torchvision's SSD: each ground-truth box takes its best default
box and every default box with IoU >= 0.5 (SSDMatcher); the box loss is the smooth L1 of
the matched boxes' codes (BoxCoder 10, 10, 5, 5); the class loss is the softmax
cross-entropy of the positives and of the 3x as many hardest negatives (hard negative
mining); both are divided by the number of positives in the batch.

With loss='focal' the classifier is RetinaNet's instead: K sigmoid logits per box (no
background class, the last layer's bias set so that every box starts at probability 0.01),
Matcher(0.5, 0.4) with each box's best anchors (anchors in between ignored), the focal loss
over every anchor that is not ignored and the L1 box loss, both divided by the positives.

Inference (calling the model on images): softmax (or sigmoid) scores, decoded boxes, then
postprocess.select_detections (score > 0.05, per-class NMS at 0.45, 100 per image).
"""
import numpy

from .. import functional as F
from .. import nn
from ..autograd import no_grad
from ..backend import to_numpy
from .anchors import DefaultBoxGenerator
from .backbone import Backbone
from .boxes import box_iou
from .coder import BoxCoder
from .losses import prior_probability_bias, sigmoid_focal_loss
from .matching import Matcher, SSDMatcher
from .postprocess import select_detections
from .sampling import hard_negative_mining
from .targets import check_targets

__all__ = ["SSDLite", "ssd_lite"]

LOSSES = ("hard_negative_mining", "focal")


class SSDLite(nn.Module):
    def __init__(self, num_classes, in_channels=3, widths=(16, 32, 64, 96), loss="hard_negative_mining",
                 min_ratio=0.14, max_ratio=0.5, score_threshold=0.05, nms_threshold=0.45,
                 detections_per_image=100):
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"SSDLite: loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        if num_classes < 1:
            raise ValueError(f"SSDLite: num_classes must be at least 1, got {num_classes}")
        self.num_classes, self.loss_kind = num_classes, loss
        self.backbone = Backbone(in_channels, widths)
        self.default_boxes = DefaultBoxGenerator([[2]] * 3, min_ratio, max_ratio)
        per_cell = self.default_boxes.num_anchors_per_location()
        self.logits_per_box = num_classes if loss == "focal" else num_classes + 1
        self.class_heads = nn.ModuleList([nn.Conv2d(c, a * self.logits_per_box, 3, padding=1)
                                          for c, a in zip(self.backbone.out_channels, per_cell)])
        self.box_heads = nn.ModuleList([nn.Conv2d(c, a * 4, 3, padding=1)
                                        for c, a in zip(self.backbone.out_channels, per_cell)])
        if loss == "focal":
            for head in self.class_heads:
                nn.init.constant_(head.bias, prior_probability_bias(0.01))
        self.coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
        self.matcher = Matcher(0.5, 0.4, True) if loss == "focal" else SSDMatcher(0.5)
        self.score_threshold, self.nms_threshold = score_threshold, nms_threshold
        self.detections_per_image = detections_per_image
        self._anchors = {}

    def anchors(self, image_size, feature_sizes):
        """The default boxes (A, 4) for this image size, made once per size."""
        key = (tuple(image_size), tuple(feature_sizes))
        if key not in self._anchors:
            self._anchors[key] = self.default_boxes(image_size, feature_sizes)
        return self._anchors[key]

    def heads(self, images):
        """(class logits (N, A, L), box codes (N, A, 4), default boxes (A, 4) numpy), the
        boxes ordered map by map, cell by cell (row-major), box by box within a cell."""
        features = self.backbone(images)
        logits, codes = [], []
        for feature, class_head, box_head in zip(features, self.class_heads, self.box_heads):
            logits.append(_per_box(class_head(feature), self.logits_per_box))
            codes.append(_per_box(box_head(feature), 4))
        anchors = self.anchors(images.shape[2:], [f.shape[2:] for f in features])
        return F.cat(logits, dim=1), F.cat(codes, dim=1), anchors

    def forward(self, images):
        """Detections of each image (postprocess.py's format)."""
        logits, codes, anchors = self.heads(images)
        return self.detections(logits, codes, anchors, images.shape[2:])

    def detections(self, logits, codes, anchors, image_size):
        with no_grad():
            logits, codes = to_numpy(logits.data), to_numpy(codes.data)
        if self.loss_kind == "focal":
            scores = 1 / (1 + numpy.exp(-logits))
        else:
            shifted = numpy.exp(logits - logits.max(axis=2, keepdims=True))
            scores = (shifted / shifted.sum(axis=2, keepdims=True))[:, :, 1:]
        return [select_detections(self.coder.decode(codes[i].astype(numpy.float64), anchors),
                                  scores[i], tuple(image_size), self.score_threshold,
                                  self.nms_threshold, 200, self.detections_per_image)
                for i in range(len(codes))]

    def compute_loss(self, images, boxes, labels):
        """({"classification": Tensor, "box_regression": Tensor}, detections of this forward)."""
        boxes, labels = check_targets("SSDLite", boxes, labels, images.shape[0], self.num_classes)
        logits, codes, anchors = self.heads(images)
        matches = [self.matcher(box_iou(b, anchors)) if len(b) else
                   self.matcher(numpy.zeros((0, len(anchors)))) for b in boxes]
        positive = numpy.stack([m >= 0 for m in matches])            # (N, A)
        positives = max(1, int(positive.sum()))
        target_codes = numpy.concatenate([self.coder.encode(b[m[m >= 0]], anchors[m >= 0])
                                          for b, m in zip(boxes, matches)]).astype(numpy.float32)
        flat_positive = numpy.flatnonzero(positive.reshape(-1))
        chosen_codes, target_codes = codes.reshape(-1, 4)[flat_positive], target_codes.astype(codes.dtype)
        box_loss = (F.l1_loss(chosen_codes, target_codes, reduction="sum") if self.loss_kind == "focal"
                    else F.smooth_l1_loss(chosen_codes, target_codes, reduction="sum", beta=1.0))
        classes = numpy.stack([numpy.where(m >= 0, l[numpy.maximum(m, 0)] if len(l) else 0, -1)
                               for m, l in zip(matches, labels)])    # -1 background, -2 ignored
        classes = numpy.where(numpy.stack(matches) == -2, -2, classes)
        if self.loss_kind == "focal":
            class_loss = self._focal_loss(logits, classes)
        else:
            class_loss = self._mined_loss(logits, classes, positive)
        losses = {"classification": class_loss / positives, "box_regression": box_loss / positives}
        return losses, self.detections(logits, codes, anchors, images.shape[2:])

    def _mined_loss(self, logits, classes, positive):
        """Cross-entropy of the positives and of the hardest 3 x as many negatives."""
        targets = (classes + 1).reshape(-1)                      # 0 = background
        per_box = F.cross_entropy(logits.reshape(-1, self.logits_per_box), targets,
                                  reduction="none")
        chosen = positive | hard_negative_mining(to_numpy(per_box.data).reshape(positive.shape),
                                                 positive, 3)
        return per_box[numpy.flatnonzero(chosen.reshape(-1))].sum()

    def _focal_loss(self, logits, classes):
        """Focal loss over every anchor not ignored, one-hot targets (background: all 0)."""
        kept = numpy.flatnonzero(classes.reshape(-1) != -2)
        one_hot = numpy.zeros((len(kept), self.num_classes), logits.dtype)
        wanted = classes.reshape(-1)[kept]
        one_hot[numpy.flatnonzero(wanted >= 0), wanted[wanted >= 0]] = 1
        chosen = logits.reshape(-1, self.num_classes)[kept]
        return sigmoid_focal_loss(chosen, one_hot, reduction="sum")


def _per_box(head_output, values_per_box):
    """(N, A_cell L, H, W) -> (N, H W A_cell, L), the default boxes' order."""
    n = head_output.shape[0]
    return head_output.permute(0, 2, 3, 1).reshape(n, -1, values_per_box)


def ssd_lite(num_classes, in_channels=3, **options):
    return SSDLite(num_classes, in_channels, **options)
