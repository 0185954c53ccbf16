"""Training curves as a PNG: loss and accuracy per epoch, train and validation.

Drawn on a bare matplotlib Figure with the Agg canvas rather than through pyplot, so saving
a plot never changes the backend of a user's notebook or needs a display.
"""
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..serialization import write_atomically


def save_curves(history, path):
    """Plot history["train_loss"], ["val_loss"], ["train_accuracy"], ["val_accuracy"] by epoch."""
    figure = Figure(figsize=(9, 3.5))
    FigureCanvasAgg(figure)
    epochs = history["epoch"]
    for axes, metric in zip(figure.subplots(1, 2), ("loss", "accuracy")):
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
