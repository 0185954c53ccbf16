"""minicnn.segmentation: one class per pixel, and from pixels to objects.

    task.py         SegmentationTask: pixel-wise cross-entropy (+ weight map) + Dice loss,
                    Dice and IoU per class, pictures; predict_masks
    weight_map.py   the U-Net paper's weight map (w_c + w0 exp(-(d1 + d2)^2 / 2 sigma^2))
    instances.py    masks to instances: connected components, watershed, a border class
    matching.py     instances matched at IoU >= 0.5: precision, recall, F1
    augment.py      flips and quarter turns of image and masks together
    pictures.py     masks overlaid on images; a mask as a PNG

The model is minicnn.models.UNet; the losses dice_loss and cross_entropy are in
minicnn.functional, the pixel metrics in minicnn.training.metrics. SciPy is needed for the
weight map and the instances (scikit-image for the watershed): pip install -e ".[segment]".
"""
from .augment import FlipsAndTurns, JointlyAugmented, segmentation_augmentation
from .instances import (BORDER_CLASSES, border_class_targets, connected_components,
                        instances_from_border_class, watershed_instances)
from .matching import instance_scores, match_instances, overlap_matrix
from .pictures import save_mask_png, save_overlays
from .task import SegmentationTask, predict_masks
from .weight_map import (balanced_class_weights, nearest_two_distances, unet_weight_map,
                         weighted_training_set)

__all__ = ["BORDER_CLASSES", "FlipsAndTurns", "JointlyAugmented", "SegmentationTask",
           "balanced_class_weights", "border_class_targets", "connected_components",
           "instance_scores", "instances_from_border_class", "match_instances",
           "nearest_two_distances", "overlap_matrix", "predict_masks", "save_mask_png",
           "save_overlays", "segmentation_augmentation", "unet_weight_map",
           "watershed_instances", "weighted_training_set"]
