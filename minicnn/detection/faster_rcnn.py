"""FasterRCNNLite: a two-stage detector in the style of Faster R-CNN (Ren et al. 2015), small
enough to train on a CPU in minutes.

    images (N, 3, S, S) -> Backbone -> maps at strides 4 and 8
    one map at stride 4 (64 channels): the stride-8 map, upsampled, added to the stride-4
        map (each through a 1x1 convolution, then a 3x3 one): fine detail with more context,
        a one-level feature pyramid (Lin et al. 2017)
    stage 1  RegionProposalNetwork: anchors of 8, 16 and 32 pixels at ratios 1/2, 1, 2 on
             every cell; objectness and box codes; up to 100 proposals per image (50 at test)
    stage 2  RoIHeads: RoIAlign 7 x 7 of each proposal, two fully connected layers, class
             scores and a refined box per class; per-class NMS

compute_loss adds the RPN's and the box head's losses (four terms); the proposals the box
head trains on are detached, as in torchvision (the two stages learn through the shared
backbone, not through the proposal coordinates).

FasterRCNNLite(..., masks=True) adds Mask R-CNN's mask branch (mask_head.py): compute_loss
then needs each image's instance masks, adds a "mask" loss, and detections carry 'masks'.
"""
from .. import functional as F
from .. import nn
from ..backend import to_numpy
from .anchors import AnchorGenerator
from .backbone import Backbone, conv_bn_relu
from .mask_head import MaskHead
from .roi_heads import RoIHeads
from .rpn import RegionProposalNetwork
from .targets import check_targets

__all__ = ["FasterRCNNLite", "faster_rcnn_lite", "mask_rcnn_lite"]


class FasterRCNNLite(nn.Module):
    def __init__(self, num_classes, in_channels=3, widths=(16, 32, 64, 96), channels=64,
                 anchor_sizes=(8, 16, 32), aspect_ratios=(0.5, 1.0, 2.0), score_threshold=0.05,
                 nms_threshold=0.5, detections_per_image=100, masks=False):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"FasterRCNNLite: num_classes must be at least 1, got {num_classes}")
        self.num_classes = num_classes
        self.backbone = Backbone(in_channels, widths, levels=2)
        self.lateral_fine = nn.Conv2d(widths[1], channels, 1)
        self.lateral_coarse = nn.Conv2d(widths[2], channels, 1)
        self.smooth = conv_bn_relu(channels, channels)
        self.rpn = RegionProposalNetwork(channels, AnchorGenerator((tuple(anchor_sizes),),
                                                                   (tuple(aspect_ratios),)))
        self.roi_heads = RoIHeads(channels, num_classes, stride=self.backbone.strides[0],
                                  score_threshold=score_threshold, nms_threshold=nms_threshold,
                                  detections_per_image=detections_per_image)
        self.uses_masks = masks
        if masks:
            self.mask_head = MaskHead(channels, num_classes, stride=self.backbone.strides[0])

    def features(self, images):
        fine, coarse = self.backbone(images)
        return self.smooth(self.lateral_fine(fine)
                           + F.interpolate(self.lateral_coarse(coarse), scale_factor=2))

    def forward(self, images):
        """Detections of each image (postprocess.py's format)."""
        feature = self.features(images)
        *_, proposals = self.rpn(feature, images.shape[2:])
        return self.detect(feature, proposals, images.shape[2:])

    def detect(self, feature, proposals, image_size):
        detections = self.roi_heads.detect(feature, proposals, image_size)
        return self.mask_head.predict(feature, detections, image_size) if self.uses_masks else detections

    def compute_loss(self, images, boxes, labels, masks=None):
        """(the RPN's and the box head's losses, and the mask loss with masks=True;
        detections of this forward)."""
        boxes, labels = check_targets("FasterRCNNLite", boxes, labels, images.shape[0],
                                      self.num_classes)
        masks = self._check_masks(masks, boxes, images.shape[2:])
        feature = self.features(images)
        logits, codes, anchors, proposals = self.rpn(feature, images.shape[2:])
        losses = self.rpn.loss(logits, codes, anchors, boxes)
        box_losses, positives = self.roi_heads.loss(feature, proposals, boxes, labels)
        losses.update(box_losses)
        if self.uses_masks:
            losses.update(self.mask_head.loss(feature, positives, masks, labels))
        return losses, self.detect(feature, proposals, images.shape[2:])

    def _check_masks(self, masks, boxes, image_size):
        if not self.uses_masks:
            return None
        if masks is None or len(masks) != len(boxes):
            raise ValueError("FasterRCNNLite: a model with a mask head needs one (K, H, W) mask "
                             "array per image in compute_loss(images, boxes, labels, masks)")
        checked = []
        for i, (image_masks, image_boxes) in enumerate(zip(masks, boxes)):
            image_masks = to_numpy(image_masks.data if hasattr(image_masks, "data") else image_masks)
            if image_masks.shape != (len(image_boxes),) + tuple(image_size):
                raise ValueError(f"FasterRCNNLite: masks[{i}] must have shape "
                                 f"{(len(image_boxes),) + tuple(image_size)} (one mask per box), "
                                 f"got {image_masks.shape}")
            checked.append(image_masks)
        return checked


def faster_rcnn_lite(num_classes, in_channels=3, **options):
    return FasterRCNNLite(num_classes, in_channels, **options)


def mask_rcnn_lite(num_classes, in_channels=3, **options):
    return FasterRCNNLite(num_classes, in_channels, masks=True, **options)
