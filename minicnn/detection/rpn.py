"""The region proposal network (Ren et al. 2015), with torchvision's training rules.

On one feature map, a 3x3 convolution and two 1x1 convolutions give, for each of the A
anchors of every cell (anchors.AnchorGenerator), an objectness logit and four box codes
(BoxCoder with weights 1, 1, 1, 1). It learns 'is there an object here, and where exactly'
without knowing which class.

Training: Matcher(0.7, 0.3, allow_low_quality_matches=True) labels each anchor object (1),
background (0) or ignored; BalancedPositiveNegativeSampler draws 256 anchors per image, at
most half positive; the objectness loss is the binary cross-entropy over the drawn anchors
(mean), the box loss the smooth L1 (beta 1/9) of the drawn positives' codes, summed and
divided by the number drawn.

Proposals: every anchor's decoded box, clipped to the image; the pre_nms_top_n of highest
objectness, boxes narrower than min_size dropped, NMS at 0.7, the post_nms_top_n best kept
(more while training, so the box head sees enough variety).
"""
import numpy

from .. import functional as F
from .. import nn
from ..autograd import no_grad
from ..backend import to_numpy
from .boxes import box_iou, clip_boxes_to_image, remove_small_boxes
from .coder import BoxCoder
from .matching import Matcher
from .nms import nms
from .sampling import BalancedPositiveNegativeSampler

__all__ = ["RegionProposalNetwork"]


class RegionProposalNetwork(nn.Module):
    def __init__(self, in_channels, anchor_generator, pre_nms_top_n=(300, 200),
                 post_nms_top_n=(100, 50), nms_threshold=0.7, min_size=1e-3):
        super().__init__()
        self.anchor_generator = anchor_generator
        anchors_per_cell = anchor_generator.num_anchors_per_location()[0]
        self.conv = nn.Conv2d(in_channels, in_channels, 3, padding=1)
        self.objectness = nn.Conv2d(in_channels, anchors_per_cell, 1)
        self.box_codes = nn.Conv2d(in_channels, anchors_per_cell * 4, 1)
        for layer in (self.conv, self.objectness, self.box_codes):     # torchvision's init
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.constant_(layer.bias, 0)
        self.coder = BoxCoder((1.0, 1.0, 1.0, 1.0))
        self.matcher = Matcher(0.7, 0.3, allow_low_quality_matches=True)
        self.sampler = BalancedPositiveNegativeSampler(256, 0.5)
        self.pre_nms_top_n, self.post_nms_top_n = pre_nms_top_n, post_nms_top_n
        self.nms_threshold, self.min_size = nms_threshold, min_size
        self._anchors = {}

    def anchors(self, image_size, feature_size):
        key = (tuple(image_size), tuple(feature_size))
        if key not in self._anchors:
            self._anchors[key] = self.anchor_generator(image_size, [feature_size])
        return self._anchors[key]

    def forward(self, feature, image_size):
        """(objectness logits (N, A), box codes (N, A, 4), anchors (A, 4), proposals: one
        (P_i, 4) float32 array per image)."""
        hidden = F.relu(self.conv(feature))
        n = feature.shape[0]
        logits = self.objectness(hidden).permute(0, 2, 3, 1).reshape(n, -1)
        codes = self.box_codes(hidden).permute(0, 2, 3, 1).reshape(n, -1, 4)
        anchors = self.anchors(image_size, feature.shape[2:])
        with no_grad():
            proposals = self.proposals(to_numpy(logits.data), to_numpy(codes.data), anchors, image_size)
        return logits, codes, anchors, proposals

    def proposals(self, logits, codes, anchors, image_size):
        pre, post = (self.pre_nms_top_n, self.post_nms_top_n)
        pre, post = (pre[0], post[0]) if self.training else (pre[1], post[1])
        found = []
        for image_logits, image_codes in zip(logits, codes):
            best = numpy.argsort(-image_logits, kind="stable")[:pre]
            boxes = clip_boxes_to_image(self.coder.decode(image_codes[best].astype(numpy.float64),
                                                          anchors[best]), image_size)
            scores = image_logits[best]
            kept = remove_small_boxes(boxes, self.min_size)
            kept = kept[nms(boxes[kept], scores[kept], self.nms_threshold)][:post]
            found.append(boxes[kept].astype(numpy.float32))
        return found

    def loss(self, logits, codes, anchors, boxes):
        """{"objectness", "rpn_box_regression"} for ground-truth boxes (one array per image)."""
        labels, targets = [], []
        for image_boxes in boxes:
            matches = self.matcher(box_iou(image_boxes, anchors) if len(image_boxes)
                                   else numpy.zeros((0, len(anchors))))
            labels.append(numpy.where(matches >= 0, 1, numpy.where(matches == -1, 0, -1)))
            matched = image_boxes[numpy.maximum(matches, 0)] if len(image_boxes) else anchors
            targets.append(self.coder.encode(matched.astype(numpy.float64), anchors.astype(numpy.float64)))
        positive, negative = (numpy.concatenate(masks) for masks in self.sampler(labels))
        sampled = numpy.flatnonzero(positive | negative)
        positive = numpy.flatnonzero(positive)
        objectness = F.binary_cross_entropy_with_logits(
            logits.reshape(-1)[sampled], numpy.concatenate(labels)[sampled].astype(logits.dtype))
        box_loss = F.smooth_l1_loss(codes.reshape(-1, 4)[positive],
                                    numpy.concatenate(targets)[positive].astype(codes.dtype),
                                    reduction="sum", beta=1 / 9)
        return {"objectness": objectness, "rpn_box_regression": box_loss / max(1, len(sampled))}
