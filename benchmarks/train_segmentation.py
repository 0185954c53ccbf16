"""The segmentation targets, measured: `minicnn train` with its defaults on shapes-segment and
on cells (with and without the weight map), over seeds, then scored on the test split.

    python benchmarks/train_segmentation.py                       seeds 0 1 2, all runs
    python benchmarks/train_segmentation.py --seeds 0 --runs cells cells-weighted

Each run is the command line's own (`minicnn train --model unet_small --dataset ... --seed
S`), so the numbers are those a user gets. Reported per run: the mean Dice over the
classes other than the background (shapes-segment: the five shapes; cells: the nucleus),
and for cells the instances found, matched to the true nuclei at IoU >= 0.5, by connected
components of the predicted mask and by the watershed. Targets: mean Dice >= 0.90 on
shapes-segment, foreground Dice >= 0.90 on cells.
"""
import argparse
import json
import os
import tempfile
import time

from minicnn.cli import load_split, load_trained_model, main as minicnn_main, read_config
from minicnn.segmentation import (connected_components, instance_scores, predict_masks,
                                  watershed_instances)

RUNS = {"shapes-segment": ["--dataset", "shapes-segment"],
        "cells": ["--dataset", "cells", "--no-weight-map"],
        "cells-weighted": ["--dataset", "cells", "--weight-map"]}


def train_and_score(name, seed, out):
    began = time.perf_counter()
    minicnn_main(["train", "--model", "unet_small", *RUNS[name], "--seed", str(seed),
                  "--out", out, "--name", f"{name}-{seed}", "--quiet"])
    seconds = time.perf_counter() - began
    run_dir = os.path.join(out, f"{name}-{seed}")
    with open(os.path.join(run_dir, "metrics.json")) as f:
        final = json.load(f)["final"]
    row = {"run": name, "seed": seed, "seconds": round(seconds), "dice": final["val_dice"]}
    config = read_config(run_dir)
    test = load_split(config, train=False)
    if getattr(test, "instances", None) is not None:
        predicted = predict_masks(load_trained_model(run_dir, config), test.arrays[0])
        for method, split in (("components", connected_components),
                              ("watershed", watershed_instances)):
            scores = instance_scores([split(mask) for mask in predicted], test.instances)
            row.update({f"{method} {key}": scores[key] for key in ("precision", "recall", "f1")})
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--out", help="where the run directories go (default: a temporary one)")
    args = parser.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="minicnn-segmentation-")
    rows = []
    for name in args.runs:
        for seed in args.seeds:
            rows.append(train_and_score(name, seed, out))
            print(json.dumps(rows[-1]), flush=True)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    print("\n| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(f"{row[c]:.3f}" if isinstance(row.get(c), float)
                                else str(row.get(c, "")) for c in columns) + " |")


if __name__ == "__main__":
    main()
