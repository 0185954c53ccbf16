"""Training curves as a PNG: loss and the task's metrics per epoch, train and validation.

Drawn on a bare matplotlib Figure with the Agg canvas rather than through pyplot, so saving
a plot never changes the backend of a user's notebook or needs a display.
"""
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..serialization import write_atomically


def save_curves(history, path, metrics=("accuracy",)):
    """Plot history["train_loss"], ["val_loss"] and, for each metric, ["train_<metric>"],
    ["val_<metric>"] by epoch, one panel each."""
    panels = ("loss",) + tuple(metrics)
    figure = Figure(figsize=(4.5 * len(panels), 3.5))
    FigureCanvasAgg(figure)
    epochs = history["epoch"]
    for axes, metric in zip(figure.subplots(1, len(panels)), panels):
        for split in ("train", "val"):
            values = history.get(f"{split}_{metric}", [])
            if values and len(values) == len(epochs):
                axes.plot(epochs, values, marker="o", label=split)
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(metric)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=100))
