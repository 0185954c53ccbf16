"""minicnn.models: ready-made networks, and `get_model(name)` to build one by name.

    mlp.py      MLP                  multilayer perceptron (MNIST baseline)
    lenet.py    LeNet5               LeNet-5 for 28x28 digits
    vgg.py      VGGSmall             VGG-style network for 32x32 images
    resnet.py   CifarResNet          ResNet-20/32/44/56/110 of He et al. 2016, section 4.2
    pretrained.py                    weights minicnn trained and ships (weights/), by name
    unet.py     UNet                 U-Net of Ronneberger et al. 2015: one label per pixel

Detectors (built in minicnn.detection, listed here to be trained by name):
    ssd_lite           SSDLite            one-stage, SSD-style
    faster_rcnn_lite   FasterRCNNLite     two-stage, Faster R-CNN-style
    mask_rcnn_lite     FasterRCNNLite     the same with Mask R-CNN's mask branch
"""
from functools import partial

from .lenet import LeNet5
from .mlp import MLP
from .pretrained import with_weights
from .resnet import BasicBlock, CifarResNet, PadShortcut, resnet20, resnet_tiny
from .unet import UNet, unet_paper, unet_small
from .vgg import VGGSmall
from ..detection.faster_rcnn import faster_rcnn_lite, mask_rcnn_lite
from ..detection.ssd import ssd_lite

MODELS = {
    "mlp": MLP,
    "lenet5": LeNet5,
    "lenet": LeNet5,
    "vgg_small": VGGSmall,
    "resnet20": resnet20,
    "resnet32": partial(CifarResNet, 32),
    "resnet44": partial(CifarResNet, 44),
    "resnet56": partial(CifarResNet, 56),
    "resnet110": partial(CifarResNet, 110),
    "resnet_tiny": resnet_tiny,
    "unet_paper": unet_paper,
    "unet_small": unet_small,
    "ssd_lite": ssd_lite,
    "faster_rcnn_lite": faster_rcnn_lite,
    "mask_rcnn_lite": mask_rcnn_lite,
}
# The models whose compute_loss takes boxes and labels: trained with --task detect.
DETECTION_MODELS = ("ssd_lite", "faster_rcnn_lite", "mask_rcnn_lite")


def get_model(name, weights=None, **kwargs):
    """Build a model by name: get_model("lenet5", num_classes=10); with weights that ship with
    minicnn: get_model("resnet_tiny", weights="mnist5k-0to4") (see pretrained.py)."""
    if name not in MODELS:
        raise ValueError(f"get_model: unknown model {name!r}; valid names are "
                         f"{', '.join(sorted(MODELS))}")
    return with_weights(name, weights, MODELS[name], kwargs)


__all__ = ["BasicBlock", "CifarResNet", "DETECTION_MODELS", "LeNet5", "MLP", "MODELS",
           "PadShortcut", "UNet", "VGGSmall", "get_model", "resnet20", "resnet_tiny", "unet_paper",
           "unet_small"]
