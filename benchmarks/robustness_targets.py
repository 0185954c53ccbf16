"""Clean, FGSM and PGD accuracy, and the mean corruption accuracy, of trained runs.

    python -m minicnn train --seed 0 --name lenet5-basic-s0                  (and seeds 1, 2)
    python -m minicnn train --seed 0 --augment corruptions --name lenet5-corruptions-s0
    python -m minicnn train --seed 0 --adversarial pgd --eps 0.3 --name lenet5-pgd-s0
    python benchmarks/robustness_targets.py runs/lenet5-basic-s* runs/lenet5-pgd-s*

For each run directory, on its whole test split (1,000 MNIST-5k digits): the clean accuracy,
FGSM and PGD accuracy at each --eps (PGD: --steps steps of 0.01 from a random start in the
ball, Madry et al.'s MNIST evaluation; one attack per image, seed 0), and the corruption
table's mean (seed 0). Prints one row per run, then the mean and spread of each group of
runs whose names differ only in a trailing -sN.
"""
import argparse
import json
import os
import re
import statistics

import minicnn
from minicnn.adversarial import accuracy, accuracy_under_attack, corruption_accuracy, fgsm, pgd
from minicnn.cli import load_split, load_trained_model, read_config
from minicnn.data import DataLoader


def measure(run_dir, epsilons, steps):
    config = read_config(run_dir)
    model = load_trained_model(run_dir, config)
    test = load_split(config, False)
    images, labels = (t.numpy() for t in next(iter(DataLoader(test, batch_size=len(test)))))
    row = {"clean": accuracy(model, images, labels)}
    minicnn.manual_seed(0)
    for eps in epsilons:
        row[f"fgsm {eps}"] = accuracy_under_attack(model, images, labels, fgsm, eps=eps)
        row[f"pgd {eps}"] = accuracy_under_attack(model, images, labels, pgd, eps=eps,
                                                  alpha=0.01, steps=steps)
    row["corruptions"] = corruption_accuracy(model, images, labels)["mean"]
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--eps", type=float, nargs="+", default=[0.1, 0.2, 0.3])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    rows = {}
    for run_dir in args.runs:
        rows[os.path.basename(os.path.normpath(run_dir))] = row = measure(run_dir, args.eps,
                                                                           args.steps)
        if len(rows) == 1:
            print(f"{'run':<24}" + "".join(f"{key:>13}" for key in row))
        print(f"{list(rows)[-1]:<24}" + "".join(f"{100 * v:12.1f}%" for v in row.values()),
              flush=True)
    groups = {}
    for name, row in rows.items():
        groups.setdefault(re.sub(r"-s\d+$", "", name), []).append(row)
    for group, members in groups.items():
        if len(members) > 1:
            cells = [(statistics.mean(m[k] for m in members),
                      statistics.stdev(m[k] for m in members)) for k in members[0]]
            print(f"{group + f' ({len(members)} seeds)':<24}"
                  + "".join(f"{100 * mean:7.1f}+-{100 * spread:3.1f}" for mean, spread in cells))
    if args.json:
        with open(args.json, "w") as file:
            json.dump(rows, file, indent=1)


if __name__ == "__main__":
    main()
