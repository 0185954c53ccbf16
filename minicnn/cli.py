"""The `minicnn` command: train, evaluate and predict from the shell.

    minicnn train                              LeNet-5 on mnist5k, writes runs/lenet5-mnist5k/
    minicnn train --model mlp --epochs 5 --name quick
    minicnn evaluate runs/lenet5-mnist5k       accuracy and confusion matrix on the test split
    minicnn predict runs/lenet5-mnist5k digit.png
    minicnn explain runs/lenet5-mnist5k digit.png --method gradcam     where the model looks
    minicnn robustness runs/lenet5-mnist5k     accuracy under noise, blur, occlusion, lighting
    minicnn quantize runs/lenet5-mnist5k       int8 model (post-training, or --qat EPOCHS)
    minicnn finetune --weights mnist5k-0to4 --dataset mnist5k-5to9 --labels-per-class 10
    minicnn distill --teacher runs/resnet20-mnist5k --student lenet5 --temperature 4
    minicnn train --model unet_small --dataset cells     segmentation: one class per pixel
    minicnn train --task detect --model ssd_lite --dataset scenes    detection: boxes and classes

A run directory holds config.json (what was trained on what, with which seed), model.npz,
checkpoint.npz, metrics.json and curves.png (and with --conv-algorithm auto the kernels it
chose, conv_choices.json); evaluate and predict rebuild everything from it.
train never replaces a run by accident: see TRAIN_RULES (printed by minicnn train --help).
finetune adapts pretrained weights to another dataset, and distill trains a student from a
trained teacher run; both write a run directory by the same rules, which evaluate and
predict read like any other.
A segmentation run (dataset shapes-segment or cells) also draws predictions.png, test images
with their true and predicted masks; its metrics are Dice and IoU per class, and predict
writes the predicted mask as a PNG. A detection run (--task detect) draws detections.png, test
images with their detections and true boxes; its metrics are COCO mAP@.5 and mAP@[.5:.95],
and predict writes the image with boxes, classes and scores as a PNG.
"""
import argparse
import contextlib
import functools
import hashlib
import json
import math
import os
import shutil
import sys
import warnings

import numpy

from . import manual_seed, no_grad, optim, tensor
from . import adversarial, explain
from . import quantization as Q
from .backend import keep_freed_memory
from .cpu_kernels.dispatch import ALGORITHMS
from .data import DataLoader, Subset, detection_collate, get_dataset, transforms
from .data.class_subsets import sample_per_class
from .data.datasets import DATASETS, DETECTION_DATASETS, SEGMENTATION_DATASETS
from .distillation import DistillationTask
from .functional import (conv_algorithm_choices, get_conv_algorithm, set_conv_algorithm,
                         set_conv_algorithm_choices)
from .models import DETECTION_MODELS, MODELS, get_model
from .models.pretrained import available
from .serialization import load, write_atomically
from .training import Trainer, TrainingDiverged, confusion_matrix, format_confusion_matrix
from .training.metrics import accuracy
from .transfer import (adapt_input_channels, discriminative_param_groups, freeze, load_weights,
                       replace_head)

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
            "weight_map": False, "conv_algorithm": "default", "adversarial": None, "eps": None,
            "attack_steps": None, "eps_warmup": None, "task": "classify"}
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

# --- finetune: its options default to train's, except these ------------------------------------
FINETUNE_MODES = ("features", "finetune", "scratch")
# lr: the rate the shipped backbones were trained with (scripts/pretrain_backbones.py)
FINETUNE_DEFAULTS = {**DEFAULTS, "command": "finetune", "dataset": "mnist5k-5to9",
                     "batch_size": 16, "lr": 1e-2, "weights": None, "mode": "finetune",
                     "labels_per_class": None, "backbone_lr": None}
FINETUNE_HELP = """modes:
  features  the pretrained layers are frozen (their BatchNorm statistics too); only a new head,
            one Linear layer for the dataset's classes, learns: a linear probe of the features
  finetune  a new head, and every layer learns; --backbone-lr gives the pretrained layers
            their own, usually smaller, learning rate (discriminative fine-tuning)
  scratch   the same architecture with random weights, trained alike: the baseline
A backbone trained on another number of input channels has its first convolution adapted
(each filter's channels summed and spread over the new ones).

"""

# --- distill: its options default to train's, except these -------------------------------------
# dataset None: the teacher's. temperature and alpha: Hinton et al.'s T and the soft part's weight.
DISTILL_DEFAULTS = {**DEFAULTS, "command": "distill", "model": None, "dataset": None,
                    "teacher": None, "temperature": 4.0, "alpha": 0.9}
DISTILL_HELP = """the loss (minicnn.distillation.distillation_loss):
  alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * cross-entropy
The teacher, a finished classification run, scores each batch once without recording a
graph; the student learns its classes (the dataset must have them: by default it is the
teacher's). A resumed run refuses a teacher whose model.npz changed since the run started.

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
    train.add_argument("--task", choices=("classify", "detect"),
                       help="what the model learns: classify (a class per image, or per pixel "
                            "for the segmentation sets), or detect (boxes and classes: the "
                            "detection models and datasets) (default: classify)")
    train.add_argument("--epochs", type=int, help="default: 30 (shapes-segment 5, cells 25; "
                                                  "ssd_lite 8, faster_rcnn_lite 6)")
    train.add_argument("--batch-size", type=int, help="default: 64 (detection: 32)")
    train.add_argument("--lr", type=float,
                       help="learning rate at the start of the cosine schedule (default: 2e-3)")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS), help="default: adam")
    train.add_argument("--device", help="cpu or cuda (default: cpu)")
    train.add_argument("--seed", type=int, help="seed of weights and shuffling (default: 0)")
    train.add_argument("--limit", type=int, help="use only the first N train and test samples")
    train.add_argument("--root", help="folder of file-based datasets (default: data)")
    train.add_argument("--augment", choices=transforms.POLICIES,
                       help="augmentation policy: none, basic (random shifts by up to 2 pixels, "
                            "and mirror images for cifar10 and shapes), strong (basic + affine "
                            "maps, colour jitter, erasing), corruptions (basic + one of noise, "
                            "blur, erasing, lighting per batch) (default: basic); on "
                            "segmentation sets image and mask move together: basic flips and "
                            "turns by quarters, strong adds a mild affine map and an elastic "
                            "deformation; on detection sets basic and strong flip image and boxes "
                            "left-right")
    train.add_argument("--no-augment", dest="augment", action="store_const", const="none",
                       help="the same as --augment none")
    train.add_argument("--mixup", type=float, metavar="ALPHA",
                       help="MixUp training batches, lambda ~ Beta(ALPHA, ALPHA)")
    train.add_argument("--cutmix", action="store_const", const=True,
                       help="CutMix training batches (with --mixup: one of the two per batch)")
    train.add_argument("--weight-map", action=argparse.BooleanOptionalAction,
                       help="segmentation of cells: weigh the loss with the U-Net paper's map, "
                            "heavy between touching nuclei (default: off)")
    train.add_argument("--patience", type=int, help="stop when val loss stalls this many epochs")
    train.add_argument("--conv-algorithm", choices=ALGORITHMS,
                       help="CPU convolution kernels: 'default' chooses them by a fixed rule, so "
                            "the same seed gives the same weights; 'auto' times them on the first "
                            "call of each layer (the choice is saved in the run directory for "
                            "--resume); or one of them for every layer (default: default)")
    add_adversarial_training_options(train)
    add_run_directory_options(train, "MODEL-DATASET")

    evaluate = commands.add_parser("evaluate", help="test accuracy and confusion matrix of a run")
    evaluate.add_argument("run_dir")

    predict = commands.add_parser("predict", help="classify one image file with a trained run "
                                                  "(segmentation runs: write its mask; detection "
                                                  "runs: draw its boxes)")
    predict.add_argument("run_dir")
    predict.add_argument("image")
    predict.add_argument("--out", help="segmentation runs: the mask PNG to write (default: "
                                       "IMAGE-mask.png beside the image); detection runs: the "
                                       "picture with boxes (default: IMAGE-detections.png)")
    predict.add_argument("--min-score", type=float, default=0.5,
                         help="detection runs: draw and list detections scoring at least this "
                              "(default: 0.5)")

    quantize = commands.add_parser("quantize", help="make an int8 model of a run and compare it")
    quantize.add_argument("run_dir")
    quantize.add_argument("--calibration", type=int, default=512,
                          help="training images the observers see (default: 512)")
    quantize.add_argument("--per-tensor", action="store_true",
                          help="one scale per weight tensor instead of one per output channel")
    quantize.add_argument("--qat", type=int, default=0, metavar="EPOCHS",
                          help="quantization-aware training for EPOCHS epochs instead of "
                               "post-training quantization")

    finetune = commands.add_parser("finetune", help="adapt pretrained weights to a dataset and "
                                   "write a run directory", epilog=FINETUNE_HELP + TRAIN_RULES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    shipped = ", ".join(name for names in available().values() for name in names)
    finetune.add_argument("--weights", required=True,
                          help=f"weights that ship with minicnn ({shipped}) or a run directory")
    finetune.add_argument("--dataset", choices=list(DATASETS), help="default: mnist5k-5to9")
    finetune.add_argument("--mode", choices=FINETUNE_MODES, help="default: finetune (see below)")
    finetune.add_argument("--labels-per-class", type=int,
                          help="train on K labelled images of each class, drawn with --seed "
                               "(default: every training image)")
    finetune.add_argument("--backbone-lr", type=float,
                          help="--mode finetune: the pretrained layers' learning rate at the "
                               "start of the cosine schedule (default: --lr)")
    finetune.add_argument("--epochs", type=int, help="default: 30")
    finetune.add_argument("--batch-size", type=int, help="default: 16")
    finetune.add_argument("--lr", type=float, help="learning rate at the start of the cosine "
                                                   "schedule, the backbone's too unless "
                                                   "--backbone-lr (default: 1e-2, Adam)")
    finetune.add_argument("--seed", type=int, help="seed of the new head, the labelled images "
                                                   "and the shuffling (default: 0)")
    finetune.add_argument("--device", help="cpu or cuda (default: cpu)")
    finetune.add_argument("--root", help="folder of file-based datasets (default: data)")
    finetune.add_argument("--patience", type=int, help="stop when val loss stalls this many epochs")
    add_run_directory_options(finetune, "WEIGHTS-DATASET-MODE")

    distill = commands.add_parser("distill", help="train a student model from a trained teacher "
                                  "run and write a run directory",
                                  epilog=DISTILL_HELP + TRAIN_RULES,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    distill.add_argument("--teacher", required=True, help="the teacher's run directory")
    distill.add_argument("--student", dest="model", required=True, choices=sorted(MODELS),
                         help="the student's architecture")
    distill.add_argument("--temperature", type=float, help="T, softening both models' logits "
                                                           "(default: 4)")
    distill.add_argument("--alpha", type=float, help="weight of the soft part, in [0, 1] "
                                                     "(default: 0.9)")
    distill.add_argument("--dataset", choices=list(DATASETS), help="default: the teacher's")
    distill.add_argument("--epochs", type=int, help="default: 30")
    distill.add_argument("--batch-size", type=int, help="default: 64")
    distill.add_argument("--lr", type=float, help="learning rate at the start of the cosine "
                                                  "schedule (default: 2e-3)")
    distill.add_argument("--optimizer", choices=list(OPTIMIZERS), help="default: adam")
    distill.add_argument("--seed", type=int, help="seed of the student's weights and the "
                                                  "shuffling (default: 0)")
    distill.add_argument("--device", help="cpu or cuda (default: cpu)")
    distill.add_argument("--limit", type=int, help="use only the first N train and test samples")
    distill.add_argument("--root", help="folder of file-based datasets (default: data)")
    distill.add_argument("--augment", choices=transforms.POLICIES,
                         help="augmentation policy of the training images, which both models "
                              "see (default: basic)")
    distill.add_argument("--patience", type=int, help="stop when val loss stalls this many epochs")
    add_run_directory_options(distill, "STUDENT-from-TEACHER")
    add_explain_commands(commands)
    return parser


def add_run_directory_options(command, default_name):
    command.add_argument("--out", default="runs",
                         help="parent of the run directory (default: runs)")
    command.add_argument("--name", help="run directory name, a folder inside --out "
                                        f"(default: {default_name})")
    existing = command.add_mutually_exclusive_group()
    existing.add_argument("--resume", action="store_true",
                          help="continue the run from its checkpoint (see below)")
    existing.add_argument("--overwrite", action="store_true",
                          help="delete an existing run of this name and train it anew")
    command.add_argument("--quiet", action="store_true", help="print nothing while training")


# --- pieces shared by the commands ----------------------------------------------------------
def augmentation(config, train):
    """The training images' augmentation policy (transforms/policies.py), with flips where
    mirror images make sense (colour photos and shapes, not digits)."""
    if is_detection(config):
        return detection_augmentation(config, train)
    if not train or is_segmentation(config):
        return None     # segmentation augments image and mask together (segmentation_split)
    return transforms.augmentation_policy(augmentation_name(config),
                                          hflip=config["dataset"] in ("cifar10", "shapes"))


def augmentation_name(config):
    """The run's augmentation policy; run directories written before the named policies
    saved true or false."""
    return {True: "basic", False: "none"}.get(config["augment"], config["augment"])


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
    path = os.path.join(run_dir, "model.npz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run_dir} has no model.npz: its training has not finished "
                                "(continue it with: minicnn train --resume and its --name)")
    model = build_model(config, config["image_shape"], len(config["class_names"]))
    load_weights(model, load(path), source=path)
    model.eval()
    return model


# --- what train may do to a run directory -----------------------------------------------
def check_options(args):
    """Refuse values that cannot work before anything is read or written."""
    for key in ("epochs", "batch_size", "limit", "patience", "labels_per_class"):
        value = getattr(args, key, None)
        if value is not None and value <= 0:
            raise ValueError(f"--{key.replace('_', '-')} must be a positive integer, got {value}")
    for key in ("lr", "backbone_lr", "temperature"):
        value = getattr(args, key, None)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"--{key.replace('_', '-')} must be a positive number, got {value}")
    alpha = getattr(args, "alpha", None)
    if alpha is not None and not 0 <= alpha <= 1:
        raise ValueError(f"--alpha must lie in [0, 1], got {alpha}")
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


def resumed_config(run_dir, given, defaults, command):
    """(the saved configuration updated with the options given now, {option: [saved, new]});
    refuses the options that cannot change, and a run that another command made."""
    saved = {**defaults, **read_config(run_dir)}
    if saved.get("command", "train") != command:
        raise ValueError(f"{run_dir} is a run of minicnn {saved['command']}, not of minicnn "
                         f"{command}; continue it with: minicnn {saved['command']} --resume")
    changed = {key: [saved[key], value] for key, value in given.items() if value != saved[key]}
    fixed = [f"--{key.replace('_', '-')} {new} (the run has {old})"
             for key, (old, new) in changed.items() if key not in CHANGEABLE_ON_RESUME]
    if fixed:
        raise ValueError(f"--resume continues {run_dir} as it was configured, so these options "
                         f"cannot change: {', '.join(fixed)}; train a new run with another "
                         "--name, or replace this one with --overwrite")
    return {**saved, **given}, changed


def continue_run(trainer, scheduler, config, run_dir, changed, base_lrs):
    """Load the run's checkpoint, re-plan the schedule for the current --epochs and the
    learning rates `base_lrs` (one per parameter group, from the current --lr) and record the
    resume in `config`; returns the number of epochs already done."""
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
    scheduler.base_lrs = list(base_lrs)
    for group, lr in zip(scheduler.optimizer.param_groups, base_lrs):
        group["initial_lr"] = lr
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
def start_run(args, defaults, default_name, command):
    """(run directory, configuration, {option: [saved, new]} changed by --resume) of the run
    that `args` ask for, checked: nothing is written yet."""
    check_options(args)
    run_dir = os.path.join(args.out, args.name or default_name)
    given = {key: getattr(args, key) for key in defaults if getattr(args, key, None) is not None}
    if args.resume:
        return (run_dir, *resumed_config(run_dir, given, defaults, command))
    check_new_run(run_dir, args.overwrite)
    return run_dir, {**defaults, **given}, {}


def train_run(args, run_dir, config, changed, model, optimizer, train_data, test_data,
              task=None):
    """Train `model` for the run in run_dir with a cosine schedule from the optimizer's
    learning rates: start it, or continue it with --resume. Only once everything is checked
    is the directory changed (an earlier run deleted by --overwrite, config.json written).
    `task`: what the loop learns (training/tasks.py); by default the dataset's (make_task)."""
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config["epochs"])
    collate = detection_collate_of(config) if is_detection(config) else None
    trainer = Trainer(model, optimizer,
                      DataLoader(train_data, batch_size=config["batch_size"], shuffle=True,
                                 batch_transform=batch_mixing(config, len(config["class_names"])),
                                 collate_fn=collate),
                      DataLoader(test_data, batch_size=256, collate_fn=collate), scheduler, out_dir=run_dir,
                      patience=config["patience"], quiet=args.quiet,
                      class_names=config["class_names"], task=task or make_task(config))
    if args.resume:
        done = continue_run(trainer, scheduler, config, run_dir, changed, base_lrs)
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
    if is_segmentation(config):
        print(f"test mean Dice {final['val_dice']:.4f}, mean IoU {final['val_iou']:.4f}  ->  "
              f"{run_dir}")
    elif is_detection(config):
        print(f"test mAP@.5 {final['val_map50']:.4f}, mAP@[.5:.95] {final['val_map']:.4f}  ->  "
              f"{run_dir}")
    elif "val_robust_accuracy" in final:
        print(f"test accuracy {100 * final['val_accuracy']:.2f}%, under {config['adversarial']} "
              f"eps {config['eps']} {100 * final['val_robust_accuracy']:.2f}%  ->  {run_dir}")
    else:
        print(f"test accuracy {100 * final['val_accuracy']:.2f}%  ->  {run_dir}")


def train_command(args):
    run_dir, config, changed = start_run(
        args, DEFAULTS, f"{args.model or DEFAULTS['model']}-{args.dataset or DEFAULTS['dataset']}",
        "train")
    check_dataset_options(config, "train")
    if is_segmentation(config) and not args.resume and args.epochs is None:
        config["epochs"] = SEGMENTATION_EPOCHS[config["dataset"]]
    check_task(config)
    if is_detection(config) and not args.resume:
        config["epochs"] = args.epochs or DETECTION_EPOCHS[config["model"]]
        config["batch_size"] = args.batch_size or DETECTION_BATCH_SIZE

    train_data, test_data = load_split(config, True), load_split(config, False)
    config["image_shape"] = list(train_data[0][0].shape)
    config["class_names"] = list(getattr(train_data, "dataset", train_data).classes)

    manual_seed(config["seed"])
    model = build_model(config, config["image_shape"], len(config["class_names"]))
    optimizer = OPTIMIZERS[config["optimizer"]](model.parameters(), config["lr"])
    train_run(args, run_dir, config, changed, model, optimizer, train_data, test_data)


def pretrained_model(weights):
    """(model, its architecture's name) from the name of weights that ship with minicnn or
    from a run directory."""
    if os.path.isdir(weights):
        source = read_config(weights)
        if is_segmentation(source):
            raise ValueError(f"--weights {weights} is a segmentation run ({source['model']} on "
                             f"{source['dataset']}): finetune adapts classifiers")
        return load_trained_model(weights, source), source["model"]
    for model_name, names in available().items():
        if weights in names:
            return get_model(model_name, weights=weights), model_name
    shipped = ", ".join(name for names in available().values() for name in names)
    raise ValueError(f"--weights {weights!r}: expected the name of weights that ship with "
                     f"minicnn ({shipped}) or a run directory, got neither")


def finetune_model(config, image_shape, num_classes):
    """The model that --mode asks for (FINETUNE_HELP), on the configured device; its
    architecture is recorded in config["model"]."""
    pretrained, config["model"] = pretrained_model(config["weights"])
    manual_seed(config["seed"])
    if config["mode"] == "scratch":
        return build_model(config, image_shape, num_classes)
    adapt_input_channels(pretrained, image_shape[0])
    replace_head(pretrained, num_classes)
    if config["mode"] == "features":
        freeze(pretrained)
    return pretrained.to(config["device"])


def finetune_command(args):
    weights_name = os.path.basename(os.path.normpath(args.weights))
    run_dir, config, changed = start_run(
        args, FINETUNE_DEFAULTS, f"{weights_name}-{args.dataset or FINETUNE_DEFAULTS['dataset']}"
                                 f"-{args.mode or FINETUNE_DEFAULTS['mode']}", "finetune")
    check_dataset_options(config, "finetune")
    if config["backbone_lr"] is not None and config["mode"] != "finetune":
        raise ValueError(f"--backbone-lr applies to --mode finetune, got --mode {config['mode']}")
    train_data, test_data = load_split(config, True), load_split(config, False)
    if config["labels_per_class"] is not None:
        try:
            train_data = sample_per_class(train_data, config["labels_per_class"], config["seed"])
        except ValueError as error:
            raise ValueError(f"--labels-per-class {config['labels_per_class']}: {error}") from None
    config["image_shape"] = list(test_data[0][0].shape)
    config["class_names"] = list(getattr(test_data, "dataset", test_data).classes)

    model = finetune_model(config, config["image_shape"], len(config["class_names"]))
    if config["mode"] == "finetune":
        groups = discriminative_param_groups(model, config["lr"],
                                             config["backbone_lr"] or config["lr"])
    else:
        groups = model.parameters()
    optimizer = OPTIMIZERS[config["optimizer"]](groups, config["lr"])
    train_run(args, run_dir, config, changed, model, optimizer, train_data, test_data)


def evaluate_command(args):
    config = read_config(args.run_dir)
    model = load_trained_model(args.run_dir, config)
    if is_segmentation(config):
        return evaluate_segmentation(config, model, load_split(config, False))
    if is_detection(config):
        return evaluate_detection(config, model, load_split(config, False))
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
    if is_detection(config):
        return predict_detections(args, config, model)
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
    if is_segmentation(config):
        raise ValueError(f"{args.run_dir} is a segmentation run ({config['model']} on "
                         f"{config['dataset']}): quantize makes int8 classifiers and "
                         f"compares their accuracy")
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


# --- segmentation runs: (image, mask) datasets ------------------------------------------------
# Default epochs of the segmentation sets, each a few minutes on two CPU cores: the U-Net
def distillation_teacher(config, resume):
    """(teacher model in eval mode on the run's device, the teacher run's config). A new run
    records the sha256 of the teacher's model.npz; a resumed one refuses a changed teacher,
    which would not give the run it continues."""
    teacher_config = read_config(config["teacher"])
    if is_segmentation(teacher_config):
        raise ValueError(f"--teacher {config['teacher']} is a segmentation run; distill "
                         "trains classifiers from a classification run")
    teacher = load_trained_model(config["teacher"], teacher_config)
    with open(os.path.join(config["teacher"], "model.npz"), "rb") as file:
        digest = hashlib.sha256(file.read()).hexdigest()
    if resume and digest != config.get("teacher_sha256"):
        raise ValueError(f"--teacher {config['teacher']}: its model.npz changed since this run "
                         f"started (sha256 {digest}, the run has {config.get('teacher_sha256')}); "
                         "distill a new run from it with another --name")
    config["teacher_sha256"] = digest
    return teacher.to(config["device"]), teacher_config


def distill_command(args):
    args.teacher = os.path.abspath(args.teacher)    # one spelling, for --resume to compare
    teacher_name = os.path.basename(args.teacher)
    run_dir, config, changed = start_run(args, DISTILL_DEFAULTS,
                                         f"{args.model}-from-{teacher_name}", "distill")
    teacher, teacher_config = distillation_teacher(config, args.resume)
    config["dataset"] = config["dataset"] or teacher_config["dataset"]
    train_data, test_data = load_split(config, True), load_split(config, False)
    config["image_shape"] = list(train_data[0][0].shape)
    config["class_names"] = list(getattr(train_data, "dataset", train_data).classes)
    for what, key in (("classes", "class_names"), ("image shape", "image_shape")):
        ours, theirs = config[key], teacher_config[key]
        if ours != theirs:
            raise ValueError(f"--teacher {config['teacher']} was trained on {theirs} ({what} of "
                             f"{teacher_config['dataset']}) but --dataset {config['dataset']} "
                             f"has {ours}; the student learns the teacher's {what}")
    manual_seed(config["seed"])
    model = build_model(config, config["image_shape"], len(config["class_names"]))
    optimizer = OPTIMIZERS[config["optimizer"]](model.parameters(), config["lr"])
    train_run(args, run_dir, config, changed, model, optimizer, train_data, test_data,
              DistillationTask(teacher, config["temperature"], config["alpha"]))


# masks shapes-segment's 4000 images well after 2-4 epochs; the 400 cells images need more.
SEGMENTATION_EPOCHS = {"shapes-segment": 5, "cells": 25}


def is_adversarial(config):
    """Whether the run trains on attacked images (--adversarial, or --eps given alone, which
    adversarial_task refuses with its own message)."""
    return bool(config.get("adversarial")) or config.get("eps") is not None


def is_segmentation(config):
    return config["dataset"] in SEGMENTATION_DATASETS


def check_dataset_options(config, command):
    """Refuse the options that the run's kind of dataset cannot use, before anything is read
    or written: MixUp, CutMix and adversarial training work on class labels, the corruptions
    policy moves no masks, the weight map weighs pixels, and finetune replaces a classifier's
    head."""
    dataset = config["dataset"]
    if is_segmentation(config):
        if command == "finetune":
            raise ValueError(f"--dataset {dataset} is a segmentation set: finetune gives a "
                             f"classifier a new head for a classification set (train a U-Net "
                             f"with: minicnn train --model unet_small --dataset {dataset})")
        for option in ("mixup", "cutmix"):
            if config[option]:
                raise ValueError(f"--{option} mixes class labels, and {dataset} is a "
                                 f"segmentation set (its targets are masks): leave it out")
        if augmentation_name(config) == "corruptions":
            raise ValueError(f"--augment corruptions changes images alone, and {dataset} is a "
                             f"segmentation set (its masks move with the image): use basic "
                             f"or strong")
        if is_adversarial(config):
            raise ValueError(f"--adversarial and --eps attack a classifier's label, and "
                             f"{dataset} is a segmentation set: leave them out")
    elif config["weight_map"]:
        raise ValueError(f"--weight-map weighs the pixels of a segmentation set (cells), and "
                         f"{dataset} is a classification set: leave it out")


def make_task(config):
    """The task of a segmentation or detection run, the adversarial task of a run with
    --adversarial or --eps; None (classification) otherwise."""
    if is_detection(config):
        from .detection import DetectionTask
        return DetectionTask(config["class_names"])
    if is_adversarial(config):
        return adversarial_task(config)
    if not is_segmentation(config):
        return None
    from .segmentation import SegmentationTask
    return SegmentationTask(len(config["class_names"]), config["class_names"])


def segmentation_split(data, config, train):
    """The training split with weight maps (--weight-map), augmented with its masks and
    weight maps (--augment basic or strong: segmentation_augmentation); the test split as
    it is."""
    if train and config.get("weight_map"):
        from .segmentation import weighted_training_set
        data = weighted_training_set(data)
    if train and augmentation_name(config) != "none":
        from .segmentation import segmentation_augmentation
        data = segmentation_augmentation(data, augmentation_name(config))
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


# --- explain and robustness: minicnn.explain and minicnn.adversarial ------------------------------
EXPLAIN_METHODS = {
    "gradcam": lambda model, layer: explain.GradCAM(model, layer),
    "saliency": lambda model, layer: explain.Saliency(model),
    "ig": lambda model, layer: explain.IntegratedGradients(model),
    "occlusion": lambda model, layer: explain.Occlusion(model),
}


def add_adversarial_training_options(train):
    train.add_argument("--adversarial", choices=list(adversarial.training.ATTACKS),
                       help="adversarial training (Madry et al.): train on the attack's images "
                            "within --eps of each training image; the run reports clean and "
                            "robust accuracy")
    train.add_argument("--eps", type=float, help="--adversarial: the attack's L-inf radius, "
                                                 "e.g. 0.3 for MNIST digits")
    train.add_argument("--attack-steps", type=int,
                       help="--adversarial pgd: PGD steps per batch, of 2.5 eps / steps each "
                            "(default: 10)")
    train.add_argument("--eps-warmup", type=int, metavar="EPOCHS",
                       help="--adversarial: the training attack's radius grows linearly to --eps "
                            "over the first EPOCHS epochs; 0 attacks at --eps from the start "
                            "(default: a third of --epochs)")


def adversarial_task(config):
    """The AdversarialTask of a run's --adversarial, --eps and --attack-steps, checked."""
    attack, eps, steps = config["adversarial"], config["eps"], config["attack_steps"]
    warmup = config["epochs"] // 3 if config["eps_warmup"] is None else config["eps_warmup"]
    if attack is None or eps is None:
        raise ValueError("--adversarial ATTACK and --eps E go together (adversarial training "
                         "needs both the attack and its radius)")
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"--eps must be a non-negative number, got {eps}")
    if steps is not None and (steps <= 0 or attack != "pgd"):
        raise ValueError(f"--attack-steps must be a positive integer, for --adversarial pgd "
                         f"only, got {steps} with --adversarial {attack}")
    if warmup < 0:
        raise ValueError(f"--eps-warmup must be a number of epochs (0 or more), got {warmup}")
    return adversarial.AdversarialTask(attack, eps, steps or 10, warmup_epochs=warmup)


def add_explain_commands(commands):
    command = commands.add_parser("explain", help="a picture of the pixels that a trained run's "
                                                  "decision on one image rests on")
    command.add_argument("run_dir")
    command.add_argument("image")
    command.add_argument("--method", choices=list(EXPLAIN_METHODS), default="gradcam",
                         help="gradcam (default), saliency, ig (integrated gradients from a black "
                              "image) or occlusion (4x4 windows, stride 2)")
    command.add_argument("--layer", help="Grad-CAM's layer, by name as in the model's printout "
                                         "(e.g. features.3; default: the last Conv2d)")
    command.add_argument("--target", type=int,
                         help="the class index to explain (default: the predicted class)")
    command.add_argument("--out",
                         help="the PNG to write (default: RUN_DIR/explain-IMAGE-METHOD.png)")

    command = commands.add_parser("robustness", help="test accuracy of a trained run under noise, "
                                                     "blur, occlusion and lighting changes")
    command.add_argument("run_dir")
    command.add_argument("--corruptions", nargs="+", choices=list(adversarial.LEVELS),
                         help="default: all of them")
    command.add_argument("--limit", type=int, help="use only the first N test images")
    command.add_argument("--seed", type=int, default=0, help="seed of the corruptions (default: 0)")
    command.add_argument("--out", help="the plot to write (default: RUN_DIR/robustness.png; "
                                       "the numbers go beside it as robustness.json)")


def check_out_directory(out):
    """--out's folder must exist: checked before the work, not after it."""
    directory = os.path.dirname(os.path.abspath(out)) if out is not None else None
    if directory is not None and not os.path.isdir(directory):
        raise ValueError(f"--out {out}: the directory {directory} does not exist")


def explain_command(args):
    if args.layer is not None and args.method != "gradcam":
        raise ValueError(f"--layer chooses Grad-CAM's layer; --method {args.method} has none")
    check_out_directory(args.out)
    config = read_config(args.run_dir)
    model = load_trained_model(args.run_dir, config)
    image = read_image(args.image, config["image_shape"])
    with no_grad():
        scores = model(tensor(image, device=config["device"])).numpy()[0]
    target = int(scores.argmax()) if args.target is None else args.target
    maps = EXPLAIN_METHODS[args.method](model, args.layer)(image, [target])
    heat = explain.heatmap(maps.numpy()[0])
    names = config["class_names"]
    pictures = [explain.pictures.as_rgb(image[0]), explain.overlay(image[0], heat, alpha=1.0),
                explain.overlay(image[0], heat)]
    figure = explain.grid(pictures, ["input", f"{args.method}: class {names[target]}", "overlay"],
                          size=2.4)
    stem = os.path.splitext(os.path.basename(args.image))[0]
    out = args.out or os.path.join(args.run_dir, f"explain-{stem}-{args.method}.png")
    explain.save_figure(figure, out)
    print(f"predicted class: {names[int(scores.argmax())]}; {args.method} of class "
          f"{names[target]} -> {out}")


def robustness_command(args):
    if args.limit is not None and args.limit <= 0:
        raise ValueError(f"--limit must be a positive integer, got {args.limit}")
    check_out_directory(args.out)
    config = read_config(args.run_dir)
    model = load_trained_model(args.run_dir, config)
    test = load_split(config, False)
    images, labels = next(iter(DataLoader(test if args.limit is None else
                                          Subset(test, range(min(args.limit, len(test)))),
                                          batch_size=len(test))))
    result = adversarial.corruption_accuracy(
        model, images.numpy(), labels.numpy(),
        corruptions=tuple(args.corruptions or adversarial.LEVELS), seed=args.seed)
    print(f"{config['model']} on {config['dataset']} (test split, {len(labels)} images, "
          f"corruption seed {args.seed})")
    print(adversarial.format_table(result))
    out = args.out or os.path.join(args.run_dir, "robustness.png")
    explain.save_figure(adversarial.plot_robustness({config["model"]: result}), out)
    text = json.dumps({**result, "seed": args.seed, "images": len(labels)}, indent=1).encode()
    write_atomically(os.path.splitext(out)[0] + ".json", lambda file: file.write(text))
    print(f"-> {out}")


# --- detection runs: --task detect, (image, target) datasets -------------------------------------
# Default epochs and batch of the detectors on scenes, a few minutes each on two CPU cores
# (held-out mAP@.5 about 0.9 for both: the README has the runs behind these numbers).
DETECTION_EPOCHS = {"ssd_lite": 8, "faster_rcnn_lite": 6, "mask_rcnn_lite": 6}
DETECTION_BATCH_SIZE = 32


def is_detection(config):
    return config.get("task") == "detect"


def check_task(config):
    """A detection model and a detection dataset go together, and only with --task detect."""
    detecting = is_detection(config)
    for key, known in (("model", DETECTION_MODELS), ("dataset", DETECTION_DATASETS)):
        if detecting and config[key] not in known:
            raise ValueError(f"--task detect needs a detection {key} ({', '.join(known)}), got "
                             f"--{key} {config[key]}")
        if not detecting and config[key] in known:
            raise ValueError(f"--{key} {config[key]} is for detection: add --task detect")
    if detecting and (config["mixup"] is not None or config["cutmix"]):
        raise ValueError("--mixup and --cutmix mix whole images and their labels; they do not "
                         "apply to --task detect")
    if detecting and augmentation_name(config) == "corruptions":
        raise ValueError("--augment corruptions is a classification policy; --task detect "
                         "takes none, basic or strong (left-right flips of image and boxes)")
    if detecting and is_adversarial(config):
        raise ValueError("--adversarial and --eps attack a classifier's label; they do not "
                         "apply to --task detect")


def detection_collate_of(config):
    """Batches of (images, [boxes], [labels]) and, for a model with a mask head, [masks]."""
    fields = ("boxes", "labels", "masks") if config["model"] == "mask_rcnn_lite" else ("boxes", "labels")
    return functools.partial(detection_collate, fields=fields)


def detection_augmentation(config, train):
    """Random left-right flips of the training images, boxes and masks moved with the pixels."""
    return transforms.RandomHorizontalFlip() if train and augmentation_name(config) != "none" else None


def evaluate_detection(config, model, data):
    """COCO's 12 numbers (of the boxes, and of the masks for a model with a mask head), AP@.5
    per class and VOC's mAP@.5 on the test split."""
    from .detection import coco_evaluate, voc_evaluate
    detections, truths = [], []
    with no_grad():
        for images, boxes, labels, *masks in DataLoader(data, batch_size=100,
                                                       collate_fn=detection_collate_of(config)):
            detections += model(tensor(images.numpy(), device=config["device"]))
            for k in range(len(boxes)):
                truths.append({"boxes": boxes[k].numpy(), "labels": labels[k].numpy()})
                if masks:
                    truths[-1]["masks"] = masks[0][k].numpy()
    names = config["class_names"]
    print(f"{config['model']} on {config['dataset']} (test split, {len(truths)} images, "
          f"{sum(len(t['boxes']) for t in truths)} objects)")
    kinds = {"boxes": "bbox", "masks": "segm"} if truths and "masks" in truths[0] else {"boxes": "bbox"}
    results = {what: coco_evaluate(detections, truths, classes=list(range(len(names))), iou_type=iou_type)
               for what, iou_type in kinds.items()}
    for what, result in results.items():
        print(f"COCO AP and AR of the {what}, as pycocotools' COCOeval (-1: no object of that size)")
        for name, value in result.summary().items():
            print(f"  {name:10s} {value:7.4f}")
    result = results["boxes"]
    print("AP@.5 per class: " + ", ".join(
        f"{name} {'-' if ap is None else f'{ap:.3f}'}"
        for name, ap in zip(names, result.ap_per_class(0.5).values())))
    print(f"VOC mAP@.5: all-point {voc_evaluate(detections, truths)['map']:.4f}, 11-point "
          f"{voc_evaluate(detections, truths, use_07_metric=True)['map']:.4f}")


def predict_detections(args, config, model):
    """Detect the objects of one image file; write it with boxes, classes and scores as a PNG."""
    from PIL import Image
    from .detection.draw import save_detections_png
    pixels = read_image(args.image, config["image_shape"])
    with no_grad():
        found = model(tensor(pixels, device=config["device"]))[0]
    # The model saw the image at its training size: boxes back to the file's pixels.
    original = numpy.asarray(Image.open(args.image).convert("RGB"), numpy.float32) / 255
    _, height, width = config["image_shape"]
    scale = numpy.array([original.shape[1] / width, original.shape[0] / height] * 2, numpy.float32)
    found = dict(found, boxes=found["boxes"] * scale)
    out = args.out or os.path.splitext(args.image)[0] + "-detections.png"
    save_detections_png(out, original.transpose(2, 0, 1), found, config["class_names"],
                        min_score=args.min_score)
    shown = numpy.flatnonzero(found["scores"] >= args.min_score)
    print(f"{len(shown)} objects with a score of at least {args.min_score} -> {out}")
    for k in shown:
        x0, y0, x1, y1 = found["boxes"][k]
        print(f"  {config['class_names'][found['labels'][k]]:>12}  {found['scores'][k]:.3f}  "
              f"box ({x0:.0f}, {y0:.0f}) - ({x1:.0f}, {y1:.0f})")


def main(argv=None):
    keep_freed_memory()   # process-wide (backend/memory.py), and this process is minicnn's own
    parser = build_parser()
    args = parser.parse_args(argv)
    command = {"train": train_command, "evaluate": evaluate_command,
               "predict": predict_command, "quantize": quantize_command,
               "finetune": finetune_command, "distill": distill_command,
               "explain": explain_command, "robustness": robustness_command}[args.command]
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
