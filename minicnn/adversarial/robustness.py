"""Accuracy under every corruption at every severity (corruptions.py), as a table and a plot.

    result = corruption_accuracy(model, images, labels)
    print(format_table(result))
    plot_robustness({"plain": result, "augmented": other})     a matplotlib Figure

The mean corruption accuracy is the mean over all corruptions and severities (Hendrycks &
Dietterich report its complement, the mean corruption error, against a baseline model).
"""
import numpy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .corruptions import LEVELS, SEVERITIES, corrupt
from .evaluate import accuracy


def corruption_accuracy(model, images, labels, corruptions=tuple(LEVELS), seed=0,
                        batch_size=256):
    """{"clean": accuracy, "table": {corruption: [accuracy at severity 1 .. 5]},
    "mean": mean corruption accuracy} of the model on the images (N, C, H, W) in [0, 1]."""
    images, labels = numpy.asarray(images), numpy.asarray(labels)
    table = {name: [accuracy(model, corrupt(images, name, severity, seed, model, labels),
                             labels, batch_size) for severity in SEVERITIES]
             for name in corruptions}
    return {"clean": accuracy(model, images, labels, batch_size), "table": table,
            "mean": float(numpy.mean(list(table.values())))}


def format_table(result):
    """The result as text: one row per corruption, accuracies in percent."""
    width = max(len(name) for name in result["table"]) + 2
    lines = [f"{'corruption':<{width}}" + "".join(f"{f'sev {s}':>8}" for s in SEVERITIES)
             + f"{'mean':>8}"]
    for name, values in result["table"].items():
        lines.append(f"{name:<{width}}" + "".join(f"{100 * v:8.1f}" for v in values)
                     + f"{100 * numpy.mean(values):8.1f}")
    lines.append(f"clean accuracy {100 * result['clean']:.1f}%, mean corruption accuracy "
                 f"{100 * result['mean']:.1f}%")
    return "\n".join(lines)


def plot_robustness(results, columns=3):
    """One panel per corruption: accuracy against severity (0 = clean), a line per entry of
    `results` ({label: corruption_accuracy(...)})."""
    results = dict(results)
    names = list(next(iter(results.values()))["table"])
    rows = -(-len(names) // columns)
    figure = Figure(figsize=(3.2 * columns, 2.4 * rows))
    FigureCanvasAgg(figure)
    panels = figure.subplots(rows, columns, squeeze=False).ravel()
    for axes, name in zip(panels, names):
        for label, result in results.items():
            axes.plot((0,) + SEVERITIES, [result["clean"]] + result["table"][name],
                      marker="o", label=f"{label} (mean {100 * result['mean']:.0f}%)")
        axes.set_title(name, fontsize=9)
        axes.set_ylim(0, 1.02)
        axes.set_xticks((0,) + SEVERITIES)
        axes.grid(alpha=0.3)
    for axes in panels[len(names):]:
        axes.axis("off")
    panels[0].set_ylabel("accuracy")
    panels[0].legend(fontsize=7)
    figure.tight_layout()
    return figure
