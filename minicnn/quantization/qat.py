"""Layers for quantization-aware training: the float layer with its weight fake-quantized.

prepare_qat swaps each Conv2d (alone, or fused with BatchNorm and/or ReLU) for QATConv2d and
each Linear (+ReLU) for QATLinear. Their weights still train in float; the forward pass uses
weight_fake_quant(weight), so the loss sees the rounding the int8 model will do and the
straight-through gradient carries on past it.

With a BatchNorm, the weight that gets quantized is the folded one, W f with
f = gamma / sqrt(running_var + eps), as after conversion. Following Krishnamoorthi 2018
("Quantizing deep convolutional networks for efficient inference", on batch normalization)
as PyTorch's ConvBn2d does, the convolution runs with that fake-quantized weight, is
divided by f again, and the BatchNorm then normalises with the batch's statistics while
they are still moving; `freeze_bn_stats` switches it to its running statistics, which
then stay as they are: from then on training sees exactly the folded convolution it gets.
"""
from .. import functional as F
from ..autograd import Tensor
from ..nn import Module
from .fuse import folded_weight_and_bias


class QATConv2d(Module):
    """conv -> (bn) -> (relu) with the (folded) weight fake-quantized; conv and bn are the
    float model's layers, weight_fake_quant the qconfig's weight FakeQuantize."""

    def __init__(self, conv, weight_fake_quant, bn=None, relu=False):
        super().__init__()
        self.conv, self.bn, self.weight_fake_quant = conv, bn, weight_fake_quant
        self.relu, self.freeze_bn = relu, False

    def forward(self, x):
        conv, bn = self.conv, self.bn
        if bn is None:
            y = F.conv2d(x, self.weight_fake_quant(conv.weight), conv.bias, conv.stride,
                         conv.padding, conv.dilation, conv.groups)
        else:
            channel = (1, -1, 1, 1)
            factor = bn.weight / Tensor((bn.running_var.data + bn.eps) ** 0.5)
            weight = self.weight_fake_quant(conv.weight * factor.reshape(-1, 1, 1, 1))
            y = F.conv2d(x, weight, None, conv.stride, conv.padding, conv.dilation,
                         conv.groups) / factor.reshape(channel)
            if conv.bias is not None:
                y = y + conv.bias.reshape(channel)
            y = self._batch_norm(y)
        return F.relu(y) if self.relu else y

    def _batch_norm(self, y):
        bn, batch_statistics = self.bn, self.training and not self.freeze_bn
        momentum = bn.momentum
        if batch_statistics:
            bn.num_batches_tracked.data += 1
            if momentum is None:
                momentum = 1.0 / int(bn.num_batches_tracked.data)
        return F.batch_norm(y, bn.running_mean, bn.running_var, bn.weight, bn.bias,
                            batch_statistics, momentum or 0.0, bn.eps)

    def float_weight_and_bias(self):
        """The weight and bias the quantized layer gets: the BatchNorm folded in, if any."""
        weight = self.conv.weight.numpy()
        bias = None if self.conv.bias is None else self.conv.bias.numpy()
        return folded_weight_and_bias(weight, bias, self.bn) if self.bn is not None else (weight, bias)

    def extra_repr(self):
        return f"bn={'frozen' if self.freeze_bn else 'training'}, relu={self.relu}"


class QATLinear(Module):
    """linear -> (relu) with the weight fake-quantized."""

    def __init__(self, linear, weight_fake_quant, relu=False):
        super().__init__()
        self.linear, self.weight_fake_quant, self.relu = linear, weight_fake_quant, relu

    def forward(self, x):
        y = F.linear(x, self.weight_fake_quant(self.linear.weight), self.linear.bias)
        return F.relu(y) if self.relu else y

    def float_weight_and_bias(self):
        bias = self.linear.bias
        return self.linear.weight.numpy(), None if bias is None else bias.numpy()


def freeze_bn_stats(model):
    """From now on every QATConv2d's BatchNorm uses (and keeps) its running statistics."""
    for module in model.modules():
        if isinstance(module, QATConv2d):
            module.freeze_bn = True
