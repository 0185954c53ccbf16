"""Attributions read from one gradient of the class score with respect to the input.

Saliency (Simonyan et al. 2014): |d y_c / d x|, how much a small change of each pixel moves
the score. InputXGradient (Shrikumar et al. 2016): x * d y_c / d x, the first-order Taylor
term of each pixel's contribution. Both return one value per input element, (N, C, H, W),
as Captum's Saliency and InputXGradient do; a picture of a colour image takes the largest
absolute value over the channels (pictures.heatmap).
"""
from ..backend import array_module
from .attribution import Attribution


class Saliency(Attribution):
    """|d y_c / d x| (or the signed gradient with abs=False)."""

    def attribute(self, inputs, target, abs=True):
        gradient = self.input_gradient(inputs, target)
        return array_module(gradient).abs(gradient) if abs else gradient


class InputXGradient(Attribution):
    """x * d y_c / d x."""

    def attribute(self, inputs, target):
        return inputs.data * self.input_gradient(inputs, target)
