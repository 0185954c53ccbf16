"""The `minicnn` command: train, evaluate and predict from the shell.

    minicnn train                              LeNet-5 on mnist5k, writes runs/lenet5-mnist5k/
    minicnn train --model mlp --epochs 5 --name quick
    minicnn evaluate runs/lenet5-mnist5k       accuracy and confusion matrix on the test split
    minicnn predict runs/lenet5-mnist5k digit.png
    minicnn train --model unet_small --dataset cells     segmentation: one class per pixel

A run directory holds config.json (what was trained on what, with which seed), model.npz,
checkpoint.npz, metrics.json and curves.png; evaluate and predict rebuild everything from it.
A segmentation run (dataset shapes-segment or cells) also draws predictions.png, test images
with their true and predicted masks; its metrics are Dice and IoU per class, and predict
writes the predicted mask as a PNG.
"""
import argparse
import json
import os
import sys

import numpy

from . import manual_seed, no_grad, optim, tensor
from .data import DataLoader, Subset, get_dataset, transforms
from .data.datasets import DATASETS, SEGMENTATION_DATASETS
from .models import MODELS, get_model
from .serialization import load
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
            "patience": None, "augment": True, "weight_map": False}


def build_parser():
    parser = argparse.ArgumentParser(prog="minicnn", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and write a run directory")
    # Defaults are None here so that --resume can tell given options from the saved config.
    train.add_argument("--model", choices=sorted(MODELS), help="default: lenet5")
    train.add_argument("--dataset", choices=list(DATASETS), help="default: mnist5k")
    train.add_argument("--epochs", type=int, help="default: 30 (shapes-segment 5, cells 25)")
    train.add_argument("--batch-size", type=int, help="default: 64")
    train.add_argument("--lr", type=float, help="learning rate (default: 2e-3)")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS), help="default: adam")
    train.add_argument("--device", help="cpu or cuda (default: cpu)")
    train.add_argument("--seed", type=int, help="seed of weights and shuffling (default: 0)")
    train.add_argument("--limit", type=int, help="use only the first N train and test samples")
    train.add_argument("--root", help="folder of file-based datasets (default: data)")
    train.add_argument("--augment", action=argparse.BooleanOptionalAction,
                       help="random shifts by up to 2 pixels, and flips for colour images "
                            "(default: on)")
    train.add_argument("--weight-map", action=argparse.BooleanOptionalAction,
                       help="segmentation of cells: weigh the loss with the U-Net paper's map, "
                            "heavy between touching nuclei (default: off)")
    train.add_argument("--patience", type=int, help="stop when val loss stalls this many epochs")
    train.add_argument("--out", default="runs", help="parent of the run directory (default: runs)")
    train.add_argument("--name", help="run directory name (default: MODEL-DATASET)")
    train.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    train.add_argument("--quiet", action="store_true", help="print nothing while training")

    evaluate = commands.add_parser("evaluate", help="test accuracy and confusion matrix of a run")
    evaluate.add_argument("run_dir")

    predict = commands.add_parser("predict", help="classify one image file with a trained run "
                                                  "(segmentation runs: write its mask)")
    predict.add_argument("run_dir")
    predict.add_argument("image")
    predict.add_argument("--out", help="segmentation runs: the mask PNG to write "
                                       "(default: IMAGE-mask.png beside the image)")
    return parser


# --- pieces shared by the commands ----------------------------------------------------------
def augmentation(config, train):
    """Random shifts (padding 2, crop back) for training; flips too where mirror images make
    sense (colour photos and shapes, not digits)."""
    if not (train and config["augment"]) or is_segmentation(config):
        return None     # segmentation augments image and mask together (segmentation_split)
    steps = [transforms.RandomCrop(padding=2)]
    if config["dataset"] in ("cifar10", "shapes"):
        steps.append(transforms.RandomHorizontalFlip())
    return transforms.Compose(steps)


def load_split(config, train):
    data = get_dataset(config["dataset"], train=train, root=config["root"],
                       transform=augmentation(config, train))
    if is_segmentation(config):
        data = segmentation_split(data, config, train)
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
    model = build_model(config, config["image_shape"], len(config["class_names"]))
    model.load_state_dict(load(os.path.join(run_dir, "model.npz")))
    model.eval()
    return model


# --- commands -------------------------------------------------------------------------------
def train_command(args):
    run_dir = os.path.join(args.out, args.name or
                           f"{args.model or DEFAULTS['model']}-{args.dataset or DEFAULTS['dataset']}")
    given = {key: getattr(args, key) for key in DEFAULTS if getattr(args, key) is not None}
    config = {**DEFAULTS, **(read_config(run_dir) if args.resume else {}), **given}
    if is_segmentation(config) and not args.resume and "epochs" not in given:
        config["epochs"] = SEGMENTATION_EPOCHS[config["dataset"]]
    for key in ("epochs", "batch_size"):
        if config[key] <= 0:
            raise ValueError(f"--{key.replace('_', '-')} must be positive, got {config[key]}")

    train_data, test_data = load_split(config, True), load_split(config, False)
    config["image_shape"] = list(train_data[0][0].shape)
    config["class_names"] = list(getattr(train_data, "dataset", train_data).classes)

    manual_seed(config["seed"])
    model = build_model(config, config["image_shape"], len(config["class_names"]))
    optimizer = OPTIMIZERS[config["optimizer"]](model.parameters(), config["lr"])
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config["epochs"])
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)

    trainer = Trainer(model, optimizer,
                      DataLoader(train_data, batch_size=config["batch_size"], shuffle=True),
                      DataLoader(test_data, batch_size=256), scheduler, out_dir=run_dir,
                      patience=config["patience"], quiet=args.quiet,
                      class_names=config["class_names"], task=make_task(config))
    trainer.fit(config["epochs"], resume=args.resume)
    with open(os.path.join(run_dir, "metrics.json")) as f:
        final = json.load(f)["final"]
    if is_segmentation(config):
        print(f"test mean Dice {final['val_dice']:.4f}, mean IoU {final['val_iou']:.4f}  ->  "
              f"{run_dir}")
    else:
        print(f"test accuracy {100 * final['val_accuracy']:.2f}%  ->  {run_dir}")


def evaluate_command(args):
    config = read_config(args.run_dir)
    model = load_trained_model(args.run_dir, config)
    if is_segmentation(config):
        return evaluate_segmentation(config, model, load_split(config, False))
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
    if is_segmentation(config):
        return predict_mask(args, config, model)
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


# --- segmentation runs: (image, mask) datasets ------------------------------------------------
# Default epochs of the segmentation sets, each a few minutes on two CPU cores: the U-Net
# masks shapes-segment's 4000 images well after 2-4 epochs; the 400 cells images need more.
SEGMENTATION_EPOCHS = {"shapes-segment": 5, "cells": 25}


def is_segmentation(config):
    return config["dataset"] in SEGMENTATION_DATASETS


def make_task(config):
    """The segmentation task of a segmentation run; None (classification) otherwise."""
    if not is_segmentation(config):
        return None
    from .segmentation import SegmentationTask
    return SegmentationTask(len(config["class_names"]), config["class_names"])


def segmentation_split(data, config, train):
    """The training split with weight maps (--weight-map) and joint flips and turns of image
    and mask (--augment); the test split as it is."""
    if train and config.get("weight_map"):
        from .segmentation import weighted_training_set
        data = weighted_training_set(data)
    if train and config["augment"]:
        from .segmentation import segmentation_augmentation
        data = segmentation_augmentation(data)
    return data


def evaluate_segmentation(config, model, data):
    """Dice and IoU per class on the test split; for the cells, instances found too."""
    from .segmentation import connected_components, instance_scores, predict_masks
    task = make_task(config)
    result = Trainer(model, None, None, quiet=True, task=task).evaluate(
        DataLoader(data, batch_size=64))
    print(f"{config['model']} on {config['dataset']} (test split, {len(data)} images)")
    print(f"mean Dice {result['dice']:.4f}  mean IoU {result['iou']:.4f}  (classes other than "
          f"the background)  pixel accuracy {100 * result['pixel_accuracy']:.2f}%")
    width = max(len(name) for name in config["class_names"])
    print(f"{'class'.rjust(width)}    Dice     IoU")
    for name, dice, iou in zip(config["class_names"], result["dice_per_class"],
                               result["iou_per_class"]):
        print(f"{name.rjust(width)}  {dice:.4f}  {iou:.4f}")
    base = getattr(data, "dataset", data)
    if getattr(base, "instances", None) is not None:
        indices = getattr(data, "indices", numpy.arange(len(base)))
        predicted = predict_masks(model, base.arrays[0][indices])
        found = instance_scores([connected_components(mask) for mask in predicted],
                                base.instances[indices])
        print(f"instances (connected components, IoU >= 0.5): precision {found['precision']:.4f}"
              f"  recall {found['recall']:.4f}  F1 {found['f1']:.4f}")


def predict_mask(args, config, model):
    """Segment one image file; write the mask (pixel value = class) as a PNG of its size."""
    from PIL import Image
    from .segmentation import predict_masks, save_mask_png
    mask = predict_masks(model, read_image(args.image, config["image_shape"]))[0]
    original_size = Image.open(args.image).size
    mask = numpy.asarray(Image.fromarray(mask.astype(numpy.uint8)).resize(original_size,
                                                                         Image.NEAREST))
    out = args.out or os.path.splitext(args.image)[0] + "-mask.png"
    save_mask_png(mask, out, len(config["class_names"]))
    counts = numpy.bincount(mask.ravel(), minlength=len(config["class_names"]))
    print(f"mask ({mask.shape[1]}x{mask.shape[0]}) -> {out}")
    for name, count in zip(config["class_names"], counts):
        print(f"  {name:>12}  {100 * count / mask.size:6.2f}% of the pixels")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    command = {"train": train_command, "evaluate": evaluate_command,
               "predict": predict_command}[args.command]
    try:
        command(args)
    except (ValueError, RuntimeError, FileNotFoundError, ModuleNotFoundError) as error:
        parser.exit(2, f"minicnn {args.command}: error: {error}\n")
    except TrainingDiverged as error:
        parser.exit(1, f"minicnn {args.command}: {error}\n")
    except KeyboardInterrupt:
        parser.exit(130, f"\nminicnn {args.command}: interrupted; a training run continues from "
                         "its last checkpoint with: minicnn train --resume (and the same --name)\n")
    return 0
