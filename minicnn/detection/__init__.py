"""minicnn.detection: anchor-based object detection, one idea per file.

    boxes.py     areas, IoU, GIoU, formats, clipping of xyxy boxes
    nms.py       greedy non-maximum suppression, per class
    coder.py     BoxCoder: boxes as offsets from anchors and back
    anchors.py   Faster R-CNN anchors and SSD default boxes over feature maps
    matching.py  which anchor answers for which ground-truth box
    sampling.py  balanced sampling and hard negative mining of anchors
    losses.py    the focal loss and its prior bias
    backbone.py, postprocess.py, targets.py    what both detectors share
    ssd.py       SSDLite, a one-stage detector
    rpn.py, roi_heads.py, mask_head.py, faster_rcnn.py    FasterRCNNLite, a two-stage one
    evaluate.py  COCO AP (as pycocotools) and VOC AP
    coco.py      COCO JSON files and datasets
    draw.py      pictures of detections
    task.py      DetectionTask: training a detector with minicnn.training's Trainer
"""
from .anchors import AnchorGenerator, DefaultBoxGenerator, generate_anchors
from .boxes import (box_area, box_convert, box_intersection, box_iou, clip_boxes_to_image,
                    generalized_box_iou, remove_small_boxes)
from .coder import BoxCoder
from .coco import CocoDetection, load_coco, save_coco
from .evaluate import coco_evaluate, detected, voc_evaluate
from .faster_rcnn import FasterRCNNLite
from .losses import prior_probability_bias, sigmoid_focal_loss
from .matching import BELOW_LOW_THRESHOLD, BETWEEN_THRESHOLDS, Matcher, SSDMatcher
from .nms import batched_nms, nms
from .sampling import BalancedPositiveNegativeSampler, hard_negative_mining
from .ssd import SSDLite
from .task import DetectionTask
