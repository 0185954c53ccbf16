"""minicnn.explain: why a trained CNN decided what it did, and whether the answer can be trusted.

    attribution.py           Attribution: what every method shares (checks, the model held
                             still, the gradient of a class score)
    gradients.py             Saliency, InputXGradient
    integrated_gradients.py  IntegratedGradients and its quadrature rules
    guided_backprop.py       GuidedBackprop (ReLU's backward rule swapped while it runs)
    occlusion.py             Occlusion
    smoothgrad.py            SmoothGrad, a wrapper around any of them
    gradcam.py               GradCAM, GradCAMPlusPlus, CAM
    layers.py                a layer's output read by its name (forward hooks)
    similarity.py            Spearman rank correlation and SSIM between two maps
    sanity.py                the model-randomization sanity check (Adebayo et al. 2018)
    features.py              first-layer filters, activation maps, activation maximization
    pictures.py              heatmaps over images, grids of pictures (matplotlib)
    checks.py                the checks on images, targets, layer names and numbers

Every method is called the same way: `GradCAM(model, "features.3")(images, target)` returns
a Tensor of maps, one per image; the model is left exactly as it was (nn.frozen_eval).
Each method that Captum has equals Captum's on the same network and weights to 1e-5
(GradCAM: LayerGradCam + LayerAttribution.interpolate, SmoothGrad: NoiseTunnel); Grad-CAM++
is checked against the paper's formula, CAM against Grad-CAM (tests/explain/).
"""
from .features import activation_maps, activation_maximization, first_layer_filters
from .gradcam import CAM, GradCAM, GradCAMPlusPlus
from .gradients import InputXGradient, Saliency
from .guided_backprop import GuidedBackprop, guided_relu_backward
from .integrated_gradients import IntegratedGradients
from .occlusion import Occlusion
from .pictures import grid, heatmap, overlay, save_figure
from .sanity import cascading_randomization, plot_sanity_check
from .smoothgrad import SmoothGrad

__all__ = ["CAM", "GradCAM", "GradCAMPlusPlus", "GuidedBackprop", "InputXGradient",
           "IntegratedGradients", "Occlusion", "Saliency", "SmoothGrad", "activation_maps",
           "activation_maximization", "cascading_randomization", "first_layer_filters", "grid",
           "guided_relu_backward", "heatmap", "overlay", "plot_sanity_check", "save_figure"]
