"""Class activation maps: where in a convolutional feature map the evidence for a class is.

A convolutional layer's output A (N, K, h, w) keeps the image's layout: A_k[i, j] says how
much feature k is present near position (i, j). A class activation map weighs the K feature
maps by their importance for class c and adds them up, then scales the (h, w) map up to the
input's size (bilinear interpolation, F.interpolate), so it can lie over the image.

    GradCAM (Selvaraju et al. 2017)   alpha_k = mean_ij d y_c / d A_k[i, j]
                                       map = ReLU(sum_k alpha_k A_k)
    GradCAMPlusPlus (Chattopadhyay et al. 2018)
                                       alpha_k = sum_ij a_kij ReLU(g_kij),   g = d y_c / d A,
                                       a_kij = g^2 / (2 g^2 + sum_ab A_kab g^3)   (0 where g = 0)
                                       map = ReLU(sum_k alpha_k A_k)
    CAM (Zhou et al. 2016)             for a model that ends in global average pooling and a
                                       linear layer y = W mean_ij A + b: map = sum_k W[c, k] A_k

y_c is the score before the softmax. For such a GAP model d y_c / d A_k[i, j] = W[c, k] / (h w),
so Grad-CAM is CAM divided by h w (and rectified): Grad-CAM generalises CAM to any network.
The layer is chosen by its name ("features.3", "layer3.1.conv2"); by default the last Conv2d.
Grad-CAM++'s a_kij is the closed form the paper derives for an exponential of the score,
as the common implementations use it (pytorch-grad-cam); Captum has no Grad-CAM++.
"""
from .. import functional as F
from ..autograd import Tensor, grad, no_grad
from ..backend import array_module
from ..nn import AdaptiveAvgPool2d, Conv2d, Linear
from .attribution import Attribution
from .checks import check_targets, find_layer, one_hot
from .layers import LayerOutput


def last_conv_layer(op, model):
    """The name of the model's last Conv2d (in the order the layers were registered)."""
    names = [name for name, module in model.named_modules() if isinstance(module, Conv2d)]
    if not names:
        raise ValueError(f"{op}: the model ({type(model).__name__}) has no Conv2d layer, so it "
                         "has no spatial feature map to explain; use Saliency, "
                         "IntegratedGradients or Occlusion instead")
    return names[-1]


def upsample(maps, size):
    """(N, 1, h, w) maps scaled to `size` (H, W) by bilinear interpolation (corners not
    aligned: PyTorch's and Captum's LayerAttribution.interpolate default)."""
    with no_grad():
        return F.interpolate(Tensor(maps), size=tuple(size), mode="bilinear",
                             align_corners=False).data


class GradCAM(Attribution):
    """Grad-CAM of layer `layer` (a name; default: the last Conv2d). Returns (N, 1, H, W)
    maps of the input's size, or the layer's (N, 1, h, w) with upsample=False; relu=False
    keeps the negative evidence (Captum's default relu_attributions=False)."""

    def __init__(self, model, layer=None):
        super().__init__(model)
        self.layer = last_conv_layer(self.name, model) if layer is None else layer
        find_layer(self.name, model, self.layer)        # a wrong name fails here, not later

    def attribute(self, inputs, target, relu=True, upsample_to_input=True):
        activations, gradients = self.layer_gradient(inputs, target)
        maps = (self.channel_weights(activations, gradients) * activations).sum(
            axis=1, keepdims=True)
        if relu:
            maps = array_module(maps).maximum(maps, 0)
        return upsample(maps, inputs.shape[2:]) if upsample_to_input else maps

    def layer_gradient(self, inputs, target):
        """(A, d y_c / d A) of the chosen layer, both (N, K, h, w) arrays."""
        with LayerOutput(self.name, self.model, self.layer) as layer:
            outputs = self.model(inputs)
        activations = layer.result()
        if activations.ndim != 4:
            raise ValueError(f"{self.name}: layer {self.layer!r} outputs shape "
                             f"{tuple(activations.shape)}, not a feature map (N, K, h, w); "
                             "choose a convolutional layer")
        targets = check_targets(self.name, target, outputs)
        (gradients,) = grad(outputs, activations, one_hot(targets, outputs), allow_unused=True)
        if gradients is None:
            raise ValueError(f"{self.name}: the model's output does not depend on layer "
                             f"{self.layer!r}")
        return activations.data, gradients.data

    def channel_weights(self, activations, gradients):
        """alpha (N, K, 1, 1): the mean gradient over each feature map."""
        return gradients.mean(axis=(2, 3), keepdims=True)


class GradCAMPlusPlus(GradCAM):
    """Grad-CAM++: positive gradients weighted per position, so that several instances of a
    class in one image all show up (plain Grad-CAM favours the strongest)."""

    def channel_weights(self, activations, gradients):
        xp = array_module(gradients)
        squared, cubed = gradients ** 2, gradients ** 3
        denominator = 2 * squared + activations.sum(axis=(2, 3), keepdims=True) * cubed
        safe = xp.where(denominator != 0, denominator, 1)
        a = xp.where(gradients != 0, squared / safe, 0)
        return (a * xp.maximum(gradients, 0)).sum(axis=(2, 3), keepdims=True)


class CAM(Attribution):
    """The class activation map of a model whose output is Linear(mean of a feature map): the
    input A of its global average pooling layer (`pool`, default: the last AdaptiveAvgPool2d)
    weighted by the row of the linear layer (`classifier`, default: the last Linear) for each
    image's class. Returns (N, 1, H, W), or (N, 1, h, w) with upsample_to_input=False;
    unrectified, as in the paper."""

    def __init__(self, model, pool=None, classifier=None):
        super().__init__(model)
        self.pool = find_layer(self.name, model, pool or self._last(AdaptiveAvgPool2d))
        self.classifier = find_layer(self.name, model, classifier or self._last(Linear))

    def _last(self, kind):
        names = [name for name, module in self.model.named_modules() if isinstance(module, kind)]
        if not names:
            raise ValueError(f"{self.name}: the model ({type(self.model).__name__}) has no "
                             f"{kind.__name__} layer; CAM needs a model that ends in global "
                             "average pooling and a linear layer; use GradCAM, which explains "
                             "any convolutional layer")
        return names[-1]

    def attribute(self, inputs, target, relu=False, upsample_to_input=True):
        pooled = []
        with no_grad(), self.pool.register_forward_hook(
                lambda module, args, output: pooled.append(args[0].data)):
            outputs = self.model(inputs)
        targets = check_targets(self.name, target, outputs)
        features = pooled[-1]
        self._check_output_is_linear_in_the_average(features, outputs.data)
        weight = self.classifier.weight.data
        maps = (weight[targets][:, :, None, None] * features).sum(axis=1, keepdims=True)
        if relu:
            maps = array_module(maps).maximum(maps, 0)
        return upsample(maps, inputs.shape[2:]) if upsample_to_input else maps

    def _check_output_is_linear_in_the_average(self, features, outputs):
        """CAM is only defined when y = W mean_ij A + b; any other model gets an error."""
        xp = array_module(features)
        weight, bias = self.classifier.weight.data, self.classifier.bias
        fits = (features.ndim == 4 and features.shape[1] == weight.shape[1]
                and outputs.shape == (len(features), weight.shape[0]))
        if fits:
            expected = features.mean(axis=(2, 3)) @ weight.T + (0 if bias is None else bias.data)
            scale = float(xp.abs(outputs).max()) + 1e-12
            fits = float(xp.abs(expected - outputs).max()) <= 1e-4 * scale
        if not fits:
            raise ValueError(f"{self.name}: the model's output is not the linear layer applied to "
                             "the global average of the pooling layer's input, so CAM does not "
                             "apply; use GradCAM")
