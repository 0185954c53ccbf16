"""The `minicnn` command: train, evaluate and predict from the shell.

    minicnn train                              LeNet-5 on mnist5k, writes runs/lenet5-mnist5k/
    minicnn train --model mlp --epochs 5 --name quick
    minicnn evaluate runs/lenet5-mnist5k       accuracy and confusion matrix on the test split
    minicnn predict runs/lenet5-mnist5k digit.png
    minicnn quantize runs/lenet5-mnist5k       int8 model (post-training, or --qat EPOCHS)

A run directory holds config.json (what was trained on what, with which seed), model.npz,
checkpoint.npz, metrics.json and curves.png; evaluate and predict rebuild everything from it.
"""
import argparse
import json
import os
import sys
import warnings

import numpy

from . import manual_seed, no_grad, optim, tensor
from . import quantization as Q
from .data import DataLoader, Subset, get_dataset, transforms
from .data.datasets import DATASETS
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
            "patience": None, "augment": True}


def build_parser():
    parser = argparse.ArgumentParser(prog="minicnn", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and write a run directory")
    # Defaults are None here so that --resume can tell given options from the saved config.
    train.add_argument("--model", choices=sorted(MODELS), help="default: lenet5")
    train.add_argument("--dataset", choices=list(DATASETS), help="default: mnist5k")
    train.add_argument("--epochs", type=int, help="default: 30")
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
    train.add_argument("--patience", type=int, help="stop when val loss stalls this many epochs")
    train.add_argument("--out", default="runs", help="parent of the run directory (default: runs)")
    train.add_argument("--name", help="run directory name (default: MODEL-DATASET)")
    train.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    train.add_argument("--quiet", action="store_true", help="print nothing while training")

    evaluate = commands.add_parser("evaluate", help="test accuracy and confusion matrix of a run")
    evaluate.add_argument("run_dir")

    predict = commands.add_parser("predict", help="classify one image file with a trained run")
    predict.add_argument("run_dir")
    predict.add_argument("image")

    quantize = commands.add_parser("quantize", help="make an int8 model of a run and compare it")
    quantize.add_argument("run_dir")
    quantize.add_argument("--calibration", type=int, default=512,
                          help="training images the observers see (default: 512)")
    quantize.add_argument("--per-tensor", action="store_true",
                          help="one scale per weight tensor instead of one per output channel")
    quantize.add_argument("--qat", type=int, default=0, metavar="EPOCHS",
                          help="quantization-aware training for EPOCHS epochs instead of "
                               "post-training quantization")
    return parser


# --- pieces shared by the commands ----------------------------------------------------------
def augmentation(config, train):
    """Random shifts (padding 2, crop back) for training; flips too where mirror images make
    sense (colour photos and shapes, not digits)."""
    if not (train and config["augment"]):
        return None
    steps = [transforms.RandomCrop(padding=2)]
    if config["dataset"] in ("cifar10", "shapes"):
        steps.append(transforms.RandomHorizontalFlip())
    return transforms.Compose(steps)


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
                      class_names=config["class_names"])
    trainer.fit(config["epochs"], resume=args.resume)
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


def quantize_command(args):
    """Quantize a trained run to int8 (PTQ, or QAT with --qat) and compare it with float."""
    if args.calibration <= 0 or args.qat < 0:
        raise ValueError(f"--calibration must be positive and --qat not negative, got "
                         f"{args.calibration} and {args.qat}")
    config = read_config(args.run_dir)
    model = load_trained_model(args.run_dir, config).cpu()
    qconfig = Q.get_qconfig(per_channel=not args.per_tensor, qat=bool(args.qat))
    manual_seed(config["seed"])
    with warnings.catch_warnings(record=True) as kept_in_float:
        warnings.simplefilter("always")
        if args.qat:
            prepared = Q.prepare_for_qat(model, qconfig)
            train = DataLoader(load_split(config, True), batch_size=config["batch_size"], shuffle=True)
            Q.train_qat(prepared, train, args.qat)
            method = f"quantization-aware training, {args.qat} epochs"
        else:
            prepared = Q.prepare_for_ptq(model, qconfig)
            train = load_split({**config, "augment": False}, True)
            calibration = Subset(train, range(min(args.calibration, len(train))))
            seen = Q.calibrate(prepared, DataLoader(calibration, batch_size=256))
            method = f"post-training quantization, {seen} calibration images"
        int8_model = Q.convert(prepared, inplace=True)
    test = DataLoader(load_split(config, False), batch_size=256)
    scores = Q.compare(model, int8_model, test)
    images = next(iter(test))[0]
    speeds = [Q.images_per_second(m, images) for m in (model, int8_model)]
    path = os.path.join(args.run_dir, "model_int8.npz")
    Q.save_quantized(int8_model, path, per_channel=not args.per_tensor)

    print(f"{config['model']} on {config['dataset']}: {method}, "
          f"{'per-tensor' if args.per_tensor else 'per-channel'} weights")
    for warning in kept_in_float:
        print(f"  {warning.message}")
    rows = [("test accuracy", f"{100 * scores['float_accuracy']:.2f}%", f"{100 * scores['int8_accuracy']:.2f}%"),
            ("weights (bytes)", f"{Q.weight_bytes(model):,}", f"{Q.weight_bytes(int8_model):,}"),
            ("model state (bytes)", f"{Q.state_bytes(model):,}", f"{Q.state_bytes(int8_model):,}"),
            (f"images/second (batch {len(images)})", f"{speeds[0]:,.0f}", f"{speeds[1]:,.0f}")]
    print(f"  {'':28}{'float32':>12}{'int8':>12}")
    for name, before, after in rows:
        print(f"  {name:28}{before:>12}{after:>12}")
    print(f"  top-1 agreement {100 * scores['agreement']:.2f}%;  int8 model -> {path}")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    command = {"train": train_command, "evaluate": evaluate_command,
               "predict": predict_command, "quantize": quantize_command}[args.command]
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
