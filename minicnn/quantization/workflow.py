"""The whole flow in a few calls, and the numbers that say how well it went.

    int8_model = quantize_model(model, loader, batches=8)                 # PTQ
    prepared = prepare_for_qat(model); train_qat(prepared, loader, 3)     # QAT
    int8_model = convert(prepared)
    compare(model, int8_model, test_loader)     # accuracies and top-1 agreement
    state_bytes(int8_model), images_per_second(int8_model, images)

Each function works on a copy: the float model passed in is left as it was.
"""
import copy
import time

import numpy

from ..autograd import Tensor, no_grad
from ..optim import Adam
from ..training import Trainer
from .convert import _convert, convert, placeholder_qparams
from .fake_quantize import disable_observer
from .fuse import fuse_modules, fuse_modules_qat, fusion_groups
from .prepare import calibrate, prepare, prepare_qat
from .qat import freeze_bn_stats
from .quantizable import quantizable


def prepare_for_ptq(model, qconfig=None):
    """A copy of `model`, made quantizable, fused (BatchNorms folded) and prepared."""
    model = quantizable(copy.deepcopy(model)).eval()
    return prepare(fuse_modules(model, fusion_groups(model), inplace=True), qconfig, inplace=True)


def prepare_for_qat(model, qconfig=None):
    """A copy of `model`, made quantizable, fused for QAT (BatchNorms kept) and prepared with
    fake quantizers, in training mode."""
    model = quantizable(copy.deepcopy(model)).train()
    return prepare_qat(fuse_modules_qat(model, fusion_groups(model), inplace=True), qconfig,
                       inplace=True)


def quantize_model(model, calibration_data, batches=None, qconfig=None):
    """Post-training quantization: the int8 version of `model`, its output scales observed
    on up to `batches` batches of calibration_data."""
    prepared = prepare_for_ptq(model, qconfig)
    calibrate(prepared, calibration_data, batches)
    return convert(prepared, inplace=True)


def quantized_architecture(model, qconfig=None):
    """The int8 model that quantize_model would make of `model`, with scale 1 and zero
    point 0 on every output: a skeleton to load an int8 file into."""
    prepared = prepare_for_ptq(model, qconfig)
    _convert(prepared, "", placeholder_qparams)
    return prepared.eval()


def train_qat(prepared, train_loader, epochs, lr=1e-4, freeze_bn_epoch=None,
              freeze_observer_epoch=None, quiet=True):
    """Quantization-aware training of a prepare_for_qat model with Adam: after epoch
    `freeze_bn_epoch` the BatchNorms use their running statistics, after
    `freeze_observer_epoch` the ranges stop moving (both late in training, as PyTorch's QAT
    tutorial does; by default after the second-to-last epoch). Returns the mean training
    loss of each epoch."""
    last_but_one = max(1, epochs - 1)
    freeze_bn_epoch = last_but_one if freeze_bn_epoch is None else freeze_bn_epoch
    freeze_observer_epoch = last_but_one if freeze_observer_epoch is None else freeze_observer_epoch
    trainer = Trainer(prepared, Adam(prepared.parameters(), lr=lr), train_loader, quiet=quiet)
    losses = []
    for epoch in range(1, epochs + 1):
        losses.append(trainer.train_epoch(epoch)[0])
        if epoch == freeze_bn_epoch:
            freeze_bn_stats(prepared)
        if epoch == freeze_observer_epoch:
            disable_observer(prepared)
    return losses


def predictions(model, loader):
    """(predicted classes, targets) of `model` on every batch of `loader`."""
    model.eval()
    predicted, targets = [], []
    with no_grad():
        for images, labels in loader:
            predicted.append(model(images).numpy().argmax(axis=1))
            targets.append(labels.numpy())
    return numpy.concatenate(predicted), numpy.concatenate(targets)


def compare(float_model, int8_model, loader):
    """Test accuracy of both models and how often their top-1 predictions agree."""
    float_predicted, targets = predictions(float_model, loader)
    int8_predicted, _ = predictions(int8_model, loader)
    return {"float_accuracy": float((float_predicted == targets).mean()),
            "int8_accuracy": float((int8_predicted == targets).mean()),
            "agreement": float((float_predicted == int8_predicted).mean())}


def state_bytes(model):
    """Bytes of everything the model's state_dict holds (what its file stores)."""
    return sum(tensor.data.nbytes for tensor in model.state_dict().values())


def weight_bytes(model):
    """Bytes of the weights of the convolutions and linear layers alone: float32 numbers in
    a float model, int8 codes in an int8 one."""
    return sum(tensor.data.nbytes for name, tensor in model.state_dict().items()
               if name.endswith("weight") and tensor.ndim >= 2)


def images_per_second(model, images, repeats=5):
    """Inference throughput on the batch `images`: the median of `repeats` timed runs, after
    one untimed run (which compiles and fills caches)."""
    model.eval()
    images = images if isinstance(images, Tensor) else Tensor(images)
    seconds = []
    with no_grad():
        model(images)
        for _ in range(repeats):
            start = time.perf_counter()
            model(images)
            seconds.append(time.perf_counter() - start)
    return len(images) / float(numpy.median(seconds))
