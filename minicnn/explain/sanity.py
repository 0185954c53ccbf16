"""The model-randomization sanity check of Adebayo et al. 2018 ("Sanity Checks for Saliency
Maps"): an explanation of what a model learned must change when what it learned is
destroyed.

Cascading randomization re-initializes the layers one after another from the top (the
output layer first, then the one below it, ...), keeping the earlier ones random, and
explains the same images after each step. Each map is compared with the trained model's
map of the same image by Spearman's rank correlation of the absolute values and by SSIM
(similarity.py). Grad-CAM's maps decorrelate as soon as the top layer is random; Guided
Backprop's hardly change, because they mostly show the image's edges (the paper's
finding, reproduced in notebooks/08_interpretability.ipynb).

    check = cascading_randomization(model, lambda m, x, t: GradCAM(m)(x, t).numpy(),
                                    images, labels)
    check.layers          ["trained", "classifier.4", ..., "features.0"]
    check.spearman        (steps, N): one row per state of the cascade
    plot_sanity_check({"Grad-CAM": check, ...})     a matplotlib Figure

The model passed in is not changed: the cascade runs on a copy, and minicnn's random
generator is restored afterwards.
"""
import copy

import numpy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..backend import device_of, move_array, to_numpy
from ..backend.random import generator, get_rng_state, manual_seed, set_rng_state
from .pictures import overlay
from .similarity import spearman, ssim


class SanityCheck:
    """The maps at each step of the cascade and their similarity to the trained model's."""

    def __init__(self, layers, maps):
        self.layers, self.maps = layers, maps
        self.spearman = numpy.array([[spearman(abs(a), abs(b)) for a, b in zip(maps[0], step)]
                                     for step in maps])
        self.ssim = numpy.array([[ssim(_unit(a), _unit(b), data_range=1.0)
                                  for a, b in zip(maps[0], step)] for step in maps])

    def summary(self):
        """{layer randomized last: (mean Spearman, mean SSIM)}, over the images whose maps
        are not constant (a constant map has no ranking: its correlation is NaN)."""
        return {layer: (float(numpy.nanmean(rho)), float(numpy.mean(s)))
                for layer, rho, s in zip(self.layers, self.spearman, self.ssim)}


def _unit(attribution):
    """A map (C, H, W) or (H, W) as an (H, W) map of |values| scaled to [0, 1]."""
    values = numpy.abs(attribution)
    values = values.max(axis=0) if values.ndim == 3 else values
    top = values.max()
    return values / top if top > 0 else values


def randomizable_layers(model):
    """Names of the modules that own parameters, from the output down (registration order
    reversed, which is the order of the forward pass for the models here)."""
    return [name for name, module in reversed(list(model.named_modules()))
            if any(p is not None for p in module._parameters.values())]


def cascading_randomization(model, explain, images, target, seed=0):
    """Explain `images` (as `explain(model, images, target)` -> array (N, ...)) with the
    trained model and after randomizing each layer in turn, from the top; `seed` fixes the
    random weights. Returns a SanityCheck."""
    layers = randomizable_layers(model)
    if not layers:
        raise ValueError("cascading_randomization: the model has no parameters to randomize")
    randomized = copy.deepcopy(model)
    maps = [numpy.asarray(explain(randomized, images, target))]
    state = get_rng_state()
    try:
        manual_seed(seed)
        for name in layers:
            _randomize(randomized.get_submodule(name))
            maps.append(numpy.asarray(explain(randomized, images, target)))
    finally:
        set_rng_state(state)
    return SanityCheck(["trained"] + layers, maps)


def _randomize(module):
    """New weights for one module: its own initialization (reset_parameters), or for a layer
    without one (batch norm's scale and shift) Gaussian values of the trained mean and spread."""
    if hasattr(module, "reset_parameters"):
        module.reset_parameters()
        return
    for parameter in module._parameters.values():
        if parameter is not None:
            values = to_numpy(parameter.data)
            fresh = generator().normal(values.mean(), values.std() + 1e-3, values.shape)
            parameter.data = move_array(fresh.astype(values.dtype), device_of(parameter.data))


def plot_sanity_check(checks, index=0, image=None):
    """A Figure: the mean Spearman correlation and SSIM against the cascade's steps, one line
    per method of `checks` ({method name: SanityCheck}), and below them each method's maps of
    image `index` along the cascade, laid over `image` (that image, (C, H, W)) if given."""
    checks = dict(checks)
    layers = next(iter(checks.values())).layers
    figure = Figure(figsize=(1.4 * len(layers), 2.8 + 1.45 * len(checks)), layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subfigures(2, 1, height_ratios=[2.8, 1.45 * len(checks)])
    for axes, measure, title in zip(top.subplots(1, 2), ("spearman", "ssim"),
                                    ("Spearman rank correlation", "SSIM")):
        lowest = 0.0
        for name, check in checks.items():
            values = numpy.nanmean(getattr(check, measure), axis=1)
            axes.plot(range(len(layers)), values, marker="o", label=name)
            lowest = min(lowest, float(numpy.nanmin(values)))
        axes.set_xticks(range(len(layers)))
        axes.set_xticklabels(layers, rotation=45, ha="right", fontsize=7)
        axes.set_ylim(lowest - 0.1, 1.05)
        axes.axhline(0, color="grey", linewidth=0.5)
        axes.set_title(f"{title} with the trained model's map", fontsize=9)
        axes.legend(fontsize=7)
    grid = bottom.subplots(len(checks), len(layers), squeeze=False)
    for row, (name, check) in enumerate(checks.items()):
        for column, (layer, maps) in enumerate(zip(check.layers, check.maps)):
            axes = grid[row, column]
            heat = _unit(maps[index])
            axes.imshow(heat if image is None else overlay(image, heat), cmap="magma")
            axes.set_xticks([])
            axes.set_yticks([])
            if column == 0:
                axes.set_ylabel(name, fontsize=8)
            if row == 0:
                axes.set_title(layer, fontsize=7)
    return figure
