"""The `minicnn` command: train, evaluate and predict from the shell.

    minicnn train                              LeNet-5 on mnist5k, writes runs/lenet5-mnist5k/
    minicnn train --model mlp --epochs 5 --name quick
    minicnn evaluate runs/lenet5-mnist5k       accuracy and confusion matrix on the test split
    minicnn predict runs/lenet5-mnist5k digit.png

A run directory holds config.json (what was trained on what, with which seed), model.npz,
checkpoint.npz, metrics.json and curves.png (and with --conv-algorithm auto the kernels it
chose, conv_choices.json); evaluate and predict rebuild everything from it.
train never replaces a run by accident: see TRAIN_RULES (printed by minicnn train --help).
"""
import argparse
import contextlib
import json
import math
import os
import shutil
import sys

import numpy

from . import manual_seed, no_grad, optim, tensor
from .cpu_kernels.dispatch import ALGORITHMS
from .data import DataLoader, Subset, get_dataset, transforms
from .data.datasets import DATASETS
from .functional import (conv_algorithm_choices, get_conv_algorithm, set_conv_algorithm,
                         set_conv_algorithm_choices)
from .models import MODELS, get_model
from .serialization import load, write_atomically
from .training import Trainer, TrainingDiverged, confusion_matrix, format_confusion_matrix
from .training.metrics import accuracy

OPTIMIZERS = {
    "sgd": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9),
    "adam": lambda params, lr: optim.Adam(params, lr=lr),
    "adamw": lambda params, lr: optim.AdamW(params, lr=lr),
    "rmsprop": lambda params, lr: optim.RMSprop(params, lr=lr),
    "adagrad": lambda params, lr: optim.Adagrad(params, lr=lr),
}
DEFAULTS = {"model": "lenet5", "dataset": "mnist5k", "epochs": 30, "batch_size": 64, "lr": 2e-3,
            "optimizer": "adam", "device": "cpu", "seed": 0, "limit": None, "root": "data",
            "patience": None, "augment": "basic", "mixup": None, "cutmix": False,
            "conv_algorithm": "default"}
# What --resume may change. The other options define what is trained on what, so the
# checkpoint would no longer match them; --epochs and --lr re-plan the cosine schedule.
CHANGEABLE_ON_RESUME = ("epochs", "lr", "patience", "device", "root")

TRAIN_RULES = """\
a run directory is never replaced by accident:
  an existing, non-empty run directory is refused unless --resume continues the run in it or
  --overwrite deletes it first (only a minicnn run: a folder without config.json is refused).
  --resume continues the same run, bit for bit, with its saved options. Only --epochs, --lr,
  --patience, --device and --root may change; --epochs and --lr re-plan the cosine schedule:
  the remaining epochs get the learning rates of a cosine from --lr over --epochs, as if the
  run had been planned so from the start. config.json records the new values and, under
  "resumed", each resume's epoch and changes; metrics.json records every epoch's lr.
"""


def build_parser():
    parser = argparse.ArgumentParser(prog="minicnn", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and write a run directory",
                                epilog=TRAIN_RULES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    # Defaults are None here so that --resume can tell given options from the saved config.
    train.add_argument("--model", choices=sorted(MODELS), help="default: lenet5")
    train.add_argument("--dataset", choices=list(DATASETS), help="default: mnist5k")
    train.add_argument("--epochs", type=int, help="default: 30")
    train.add_argument("--batch-size", type=int, help="default: 64")
    train.add_argument("--lr", type=float,
                       help="learning rate at the start of the cosine schedule (default: 2e-3)")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS), help="default: adam")
    train.add_argument("--device", help="cpu or cuda (default: cpu)")
    train.add_argument("--seed", type=int, help="seed of weights and shuffling (default: 0)")
    train.add_argument("--limit", type=int, help="use only the first N train and test samples")
    train.add_argument("--root", help="folder of file-based datasets (default: data)")
    train.add_argument("--augment", choices=transforms.POLICIES,
                       help="augmentation policy: none, basic (random shifts by up to 2 pixels, "
                            "and flips for colour images), strong (basic + affine maps, colour "
                            "jitter, erasing) (default: basic)")
    train.add_argument("--no-augment", dest="augment", action="store_const", const="none",
                       help="the same as --augment none")
    train.add_argument("--mixup", type=float, metavar="ALPHA",
                       help="MixUp training batches, lambda ~ Beta(ALPHA, ALPHA)")
    train.add_argument("--cutmix", action="store_const", const=True,
                       help="CutMix training batches (with --mixup: one of the two per batch)")
    train.add_argument("--patience", type=int, help="stop when val loss stalls this many epochs")
    train.add_argument("--conv-algorithm", choices=ALGORITHMS,
                       help="CPU convolution kernels: 'default' chooses them by a fixed rule, so "
                            "the same seed gives the same weights; 'auto' times them on the first "
                            "call of each layer (the choice is saved in the run directory for "
                            "--resume); or one of them for every layer (default: default)")
    train.add_argument("--out", default="runs", help="parent of the run directory (default: runs)")
    train.add_argument("--name", help="run directory name, a folder inside --out "
                                      "(default: MODEL-DATASET)")
    existing = train.add_mutually_exclusive_group()
    existing.add_argument("--resume", action="store_true",
                          help="continue the run from its checkpoint (see below)")
    existing.add_argument("--overwrite", action="store_true",
                          help="delete an existing run of this name and train it anew")
    train.add_argument("--quiet", action="store_true", help="print nothing while training")

    evaluate = commands.add_parser("evaluate", help="test accuracy and confusion matrix of a run")
    evaluate.add_argument("run_dir")

    predict = commands.add_parser("predict", help="classify one image file with a trained run")
    predict.add_argument("run_dir")
    predict.add_argument("image")
    return parser


# --- pieces shared by the commands ----------------------------------------------------------
def augmentation(config, train):
    """The training images' augmentation policy (transforms/policies.py), with flips where
    mirror images make sense (colour photos and shapes, not digits)."""
    if not train:
        return None
    # Run directories written before the named policies saved true or false.
    policy = {True: "basic", False: "none"}.get(config["augment"], config["augment"])
    return transforms.augmentation_policy(policy, hflip=config["dataset"] in ("cifar10", "shapes"))


def batch_mixing(config, num_classes):
    """MixUp and/or CutMix of the training batches (one of the two per batch when both are
    asked for), or None."""
    mixings = []
    if config["mixup"] is not None:
        mixings.append(transforms.MixUp(config["mixup"], num_classes))
    if config["cutmix"]:
        mixings.append(transforms.CutMix(num_classes=num_classes))
    return transforms.RandomChoice(mixings) if mixings else None


def load_split(config, train):
    data = get_dataset(config["dataset"], train=train, root=config["root"],
                       transform=augmentation(config, train))
    if config["limit"]:
        data = Subset(data, range(min(config["limit"], len(data))))
    return data


def build_model(config, image_shape, num_classes):
    if config["model"] == "mlp":
        model = get_model("mlp", in_features=int(numpy.prod(image_shape)), num_classes=num_classes)
    else:
        model = get_model(config["model"], in_channels=image_shape[0], num_classes=num_classes)
    return model.to(config["device"])


def read_config(run_dir):
    path = os.path.join(run_dir, "config.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run_dir} is not a run directory: it has no config.json "
                                "(make one with: minicnn train --name NAME)")
    with open(path) as f:
        return json.load(f)


def load_trained_model(run_dir, config):
    path = os.path.join(run_dir, "model.npz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run_dir} has no model.npz: its training has not finished "
                                "(continue it with: minicnn train --resume and its --name)")
    model = build_model(config, config["image_shape"], len(config["class_names"]))
    model.load_state_dict(load(path))
    model.eval()
    return model


# --- what train may do to a run directory -----------------------------------------------
def check_options(args):
    """Refuse values that cannot work before anything is read or written."""
    for key in ("epochs", "batch_size", "limit", "patience"):
        value = getattr(args, key)
        if value is not None and value <= 0:
            raise ValueError(f"--{key.replace('_', '-')} must be a positive integer, got {value}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise ValueError(f"--lr must be a positive number, got {args.lr}")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    existing = os.path.abspath(args.out)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"--out {args.out}: {existing} is a file, not a directory")
    if args.name is not None:
        inside = os.path.normpath(args.name)
        if os.path.isabs(args.name) or inside in (".", "..") or inside.startswith(".." + os.sep):
            raise ValueError(f"--name {args.name!r} must name a folder inside --out "
                             f"{args.out}, such as --name lenet5-run2")


def check_new_run(run_dir, overwrite):
    """A new run needs an empty (or no) directory; --overwrite may replace an earlier run."""
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise ValueError(f"{run_dir} is a file, not a run directory; choose another --name")
    if not os.path.isdir(run_dir) or not os.listdir(run_dir):
        return
    if not os.path.exists(os.path.join(run_dir, "config.json")):
        raise ValueError(f"{run_dir} is not empty and holds no minicnn run (no config.json); "
                         "choose another --name")
    if not overwrite:
        raise ValueError(f"{run_dir} already holds a run; continue it with --resume, replace "
                         "it with --overwrite, or choose another --name")


def resumed_config(run_dir, given):
    """(the saved configuration updated with the options given now, {option: [saved, new]});
    refuses the options that cannot change."""
    saved = {**DEFAULTS, **read_config(run_dir)}
    changed = {key: [saved[key], value] for key, value in given.items() if value != saved[key]}
    fixed = [f"--{key.replace('_', '-')} {new} (the run has {old})"
             for key, (old, new) in changed.items() if key not in CHANGEABLE_ON_RESUME]
    if fixed:
        raise ValueError(f"--resume continues {run_dir} as it was configured, so these options "
                         f"cannot change: {', '.join(fixed)}; train a new run with another "
                         "--name, or replace this one with --overwrite")
    return {**saved, **given}, changed


def continue_run(trainer, scheduler, config, run_dir, changed):
    """Load the run's checkpoint, re-plan the schedule for the current --epochs and --lr and
    record the resume in `config`; returns the number of epochs already done."""
    if os.path.exists(trainer.path("checkpoint.npz")):
        done = trainer.resume()
    else:                  # stopped in its first epoch: starting again computes the same run
        done = 0
    if config["epochs"] < done:
        raise ValueError(f"--epochs {config['epochs']}: {run_dir} has already trained {done} "
                         f"epochs; give --epochs {done} or more")
    # The cosine from --lr over --epochs, at the epoch where the run stands: unchanged
    # options give the very learning rate the checkpoint holds.
    scheduler.T_max = config["epochs"]
    scheduler.base_lrs = [config["lr"]] * len(scheduler.optimizer.param_groups)
    for group in scheduler.optimizer.param_groups:
        group["initial_lr"] = config["lr"]
    scheduler.last_epoch -= 1         # step() advances one epoch: this recomputes the current one
    scheduler.step()
    config["resumed"] = config.get("resumed", []) + [{"after_epoch": done, "changed": changed}]
    return done


def write_config(run_dir, config):
    text = json.dumps(config, indent=1).encode("utf-8")
    write_atomically(os.path.join(run_dir, "config.json"), lambda file: file.write(text))


@contextlib.contextmanager
def conv_algorithm_of_run(name, run_dir, resume):
    """Train with convolution algorithm `name`. With 'auto', the kernels it chose are saved in
    run_dir/conv_choices.json when training ends (or is interrupted), and a resumed run uses
    them again instead of timing anew, so it computes what the uninterrupted run did."""
    previous, path = get_conv_algorithm(), os.path.join(run_dir, "conv_choices.json")
    set_conv_algorithm(name)
    if name == "auto" and resume and os.path.exists(path):
        with open(path) as f:
            set_conv_algorithm_choices(json.load(f))
    try:
        yield
    finally:
        if name == "auto":
            text = json.dumps(conv_algorithm_choices(), indent=1).encode("utf-8")
            write_atomically(path, lambda file: file.write(text))
        set_conv_algorithm(previous)


# --- commands -------------------------------------------------------------------------------
def train_command(args):
    check_options(args)
    run_dir = os.path.join(args.out, args.name or
                           f"{args.model or DEFAULTS['model']}-{args.dataset or DEFAULTS['dataset']}")
    given = {key: getattr(args, key) for key in DEFAULTS if getattr(args, key) is not None}
    if args.resume:
        config, changed = resumed_config(run_dir, given)
    else:
        check_new_run(run_dir, args.overwrite)
        config = {**DEFAULTS, **given}

    train_data, test_data = load_split(config, True), load_split(config, False)
    config["image_shape"] = list(train_data[0][0].shape)
    config["class_names"] = list(getattr(train_data, "dataset", train_data).classes)

    manual_seed(config["seed"])
    model = build_model(config, config["image_shape"], len(config["class_names"]))
    optimizer = OPTIMIZERS[config["optimizer"]](model.parameters(), config["lr"])
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config["epochs"])
    trainer = Trainer(model, optimizer,
                      DataLoader(train_data, batch_size=config["batch_size"], shuffle=True,
                                 batch_transform=batch_mixing(config, len(config["class_names"]))),
                      DataLoader(test_data, batch_size=256), scheduler, out_dir=run_dir,
                      patience=config["patience"], quiet=args.quiet,
                      class_names=config["class_names"])
    if args.resume:
        done = continue_run(trainer, scheduler, config, run_dir, changed)
        if not args.quiet:
            print(f"resuming {run_dir} after epoch {done} of {config['epochs']}"
                  + "".join(f", --{key.replace('_', '-')} {old} -> {new}"
                            for key, (old, new) in changed.items()), flush=True)

    # Everything is checked: only now is the run directory changed.
    if args.overwrite and os.path.isdir(run_dir):
        shutil.rmtree(run_dir)
    os.makedirs(run_dir, exist_ok=True)
    write_config(run_dir, config)
    with conv_algorithm_of_run(config["conv_algorithm"], run_dir, args.resume):
        trainer.fit(config["epochs"])
    with open(os.path.join(run_dir, "metrics.json")) as f:
        final = json.load(f)["final"]
    print(f"test accuracy {100 * final['val_accuracy']:.2f}%  ->  {run_dir}")


def evaluate_command(args):
    config = read_config(args.run_dir)
    model = load_trained_model(args.run_dir, config)
    loader = DataLoader(load_split(config, False), batch_size=256)
    result = Trainer(model, None, None, quiet=True).evaluate(loader)
    predictions, targets = result["predictions"], result["targets"]
    names = config["class_names"]
    print(f"{config['model']} on {config['dataset']} (test split, {len(targets)} images)")
    print(f"accuracy {100 * accuracy(predictions, targets):.2f}%")
    print(format_confusion_matrix(confusion_matrix(predictions, targets, len(names)), names))


def read_image(path, shape):
    """The image file as the model's input (1, C, H, W) in [0, 1], like the training images.

    Grayscale models get the mean of the colour channels. MNIST-style digits are light on
    dark, so an image whose border is mostly light (a digit drawn on paper) is inverted.
    """
    from PIL import Image
    channels, height, width = shape
    try:
        picture = Image.open(path)
    except (OSError, ValueError) as error:
        raise ValueError(f"predict: cannot read image {path}: {error}") from None
    picture = picture.convert("L" if channels == 1 else "RGB").resize((width, height),
                                                                    Image.BILINEAR)
    pixels = numpy.asarray(picture, dtype=numpy.float32) / 255
    pixels = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    border = numpy.concatenate([pixels[:, 0], pixels[:, -1], pixels[:, :, 0], pixels[:, :, -1]], axis=None)
    if channels == 1 and border.mean() > 0.5:
        pixels = 1 - pixels
    return pixels[None]


def predict_command(args):
    config = read_config(args.run_dir)
    model = load_trained_model(args.run_dir, config)
    with no_grad():
        logits = model(tensor(read_image(args.image, config["image_shape"]),
                              device=config["device"])).numpy()[0]
    probabilities = numpy.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    names = config["class_names"]
    best = int(probabilities.argmax())
    print(f"predicted class: {names[best]} (probability {probabilities[best]:.3f})")
    for index in numpy.argsort(-probabilities):
        print(f"  {names[index]:>12}  {probabilities[index]:.4f}")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    command = {"train": train_command, "evaluate": evaluate_command,
               "predict": predict_command}[args.command]
    try:
        command(args)
    except (ValueError, RuntimeError, OSError, ModuleNotFoundError) as error:
        parser.exit(2, f"minicnn {args.command}: error: {error}\n")
    except TrainingDiverged as error:
        parser.exit(1, f"minicnn {args.command}: {error}\n")
    except KeyboardInterrupt:
        parser.exit(130, f"\nminicnn {args.command}: interrupted; a training run continues from "
                         "its last checkpoint with: minicnn train --resume (and the same --name)\n")
    return 0
