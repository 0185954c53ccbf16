"""The box head of a two-stage detector (Fast R-CNN, Girshick 2015), torchvision's rules.

For each proposal, RoIAlign cuts a 7 x 7 grid out of the feature map (functional.roi_align,
aligned, 2 x 2 samples per bin); a 1x1 convolution first thins the map to 32 channels. Two
fully connected layers then give K + 1 class logits (0 = background) and 4 box codes per
class (BoxCoder 10, 10, 5, 5), refining the proposal separately for every class.

Training: the ground-truth boxes join the proposals (so every object has a perfect one);
Matcher(0.5, 0.5) labels each proposal with its box's class, or background below 0.5;
BalancedPositiveNegativeSampler draws 64 per image, at most a quarter positive. Losses:
cross-entropy over the drawn proposals (mean) and smooth L1 (beta 1/9) of the positives'
codes of their true class, summed and divided by the number drawn.

Inference: softmax scores, each class's decoded box, then postprocess.select_detections.
"""
import numpy

from .. import functional as F
from .. import nn
from ..autograd import no_grad
from ..backend import to_numpy
from .boxes import box_iou
from .coder import BoxCoder
from .matching import Matcher
from .postprocess import empty_detections, select_detections
from .sampling import BalancedPositiveNegativeSampler

__all__ = ["RoIHeads"]


class RoIHeads(nn.Module):
    def __init__(self, in_channels, num_classes, stride, resolution=7, channels=32, hidden=128,
                 score_threshold=0.05, nms_threshold=0.5, detections_per_image=100):
        super().__init__()
        self.num_classes, self.stride, self.resolution = num_classes, stride, resolution
        self.reduce = nn.Conv2d(in_channels, channels, 1)
        self.fc1 = nn.Linear(channels * resolution * resolution, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, num_classes + 1)
        self.box_regressor = nn.Linear(hidden, (num_classes + 1) * 4)
        self.coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
        self.matcher = Matcher(0.5, 0.5, allow_low_quality_matches=False)
        self.sampler = BalancedPositiveNegativeSampler(64, 0.25)
        self.score_threshold, self.nms_threshold = score_threshold, nms_threshold
        self.detections_per_image = detections_per_image

    def forward(self, feature, proposals):
        """Class logits (R, K + 1) and box codes (R, 4 (K + 1)) of the proposals, one
        (P_i, 4) array per image, R = sum of P_i."""
        regions = F.roi_align(self.reduce(feature), proposals, self.resolution, 1.0 / self.stride,
                              sampling_ratio=2, aligned=True)
        hidden = F.relu(self.fc2(F.relu(self.fc1(regions.reshape(regions.shape[0], -1)))))
        return self.classifier(hidden), self.box_regressor(hidden)

    def loss(self, feature, proposals, boxes, labels):
        """({"classification", "box_regression"} of sampled proposals (ground truth added),
        the sampled positives of each image: (proposal boxes, index of the matched box))."""
        proposals = [numpy.concatenate([p, b.astype(numpy.float32)]) for p, b in zip(proposals, boxes)]
        classes, targets, all_matches = [], [], []
        for image_proposals, image_boxes, image_labels in zip(proposals, boxes, labels):
            matches = self.matcher(box_iou(image_boxes, image_proposals) if len(image_boxes)
                                   else numpy.zeros((0, len(image_proposals))))
            all_matches.append(matches)
            image_classes = numpy.where(matches >= 0, image_labels[numpy.maximum(matches, 0)] + 1
                                        if len(image_labels) else 0, 0)
            classes.append(numpy.where(matches == -2, -1, image_classes))
            matched = image_boxes[numpy.maximum(matches, 0)] if len(image_boxes) else image_proposals
            targets.append(self.coder.encode(matched.astype(numpy.float64),
                                             image_proposals.astype(numpy.float64)))
        positive, negative = self.sampler(classes)
        chosen = [numpy.flatnonzero(p | n) for p, n in zip(positive, negative)]
        logits, codes = self(feature, [p[c] for p, c in zip(proposals, chosen)])
        wanted = numpy.concatenate([c[k] for c, k in zip(classes, chosen)])
        target_codes = numpy.concatenate([t[k] for t, k in zip(targets, chosen)])
        classification = F.cross_entropy(logits, wanted)
        rows = numpy.flatnonzero(wanted > 0)
        columns = wanted[rows][:, None] * 4 + numpy.arange(4)[None, :]    # the true class's codes
        chosen_codes = codes[rows[:, None], columns]
        box_loss = F.smooth_l1_loss(chosen_codes, target_codes[rows].astype(codes.dtype),
                                    reduction="sum", beta=1 / 9)
        losses = {"classification": classification, "box_regression": box_loss / max(1, len(wanted))}
        return losses, [(p[k], m[k]) for p, m, k in zip(proposals, all_matches, positive)]

    def detect(self, feature, proposals, image_size):
        """Detections of each image from its proposals (postprocess.py's format)."""
        with no_grad():
            logits, codes = self(feature, proposals)
            logits, codes = to_numpy(logits.data), to_numpy(codes.data)
        shifted = numpy.exp(logits - logits.max(axis=1, keepdims=True))
        scores = shifted / shifted.sum(axis=1, keepdims=True)
        detections, start = [], 0
        for image_proposals in proposals:
            end = start + len(image_proposals)
            if end == start:
                detections.append(empty_detections())
                continue
            boxes = self.coder.decode(codes[start:end].astype(numpy.float64),
                                      image_proposals.astype(numpy.float64))
            detections.append(select_detections(
                boxes.reshape(-1, self.num_classes + 1, 4)[:, 1:], scores[start:end, 1:],
                tuple(image_size), self.score_threshold, self.nms_threshold, 200,
                self.detections_per_image))
            start = end
        return detections
