"""A minicnn network and its PyTorch twin with the same weights, for the Captum comparisons."""
import numpy

import minicnn
from minicnn import nn
from minicnn.models import LeNet5
from tests.nn.test_state import torch_lenet5


def copy_weights(torch, ours, theirs):
    """Load our state_dict into the torch model (the names are the same); returns it in eval mode."""
    theirs.load_state_dict({name: torch.tensor(value.numpy())
                            for name, value in ours.state_dict().items()})
    return theirs.eval()


def lenet_pair(torch, seed=0):
    """(LeNet5, its torch twin), both in eval mode with the same random weights."""
    minicnn.manual_seed(seed)
    ours = LeNet5().eval()
    return ours, copy_weights(torch, ours, torch_lenet5(torch))


def gap_net():
    """conv-relu-conv-relu, global average pooling, linear: a model CAM applies to."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 5))


def digits(count=3, seed=0):
    """Images (count, 1, 28, 28) in [0, 1] with some structure (a blurred bright stroke)."""
    rng = numpy.random.default_rng(seed)
    images = rng.uniform(0, 0.2, (count, 1, 28, 28)).astype(numpy.float32)
    for n in range(count):
        row, column = rng.integers(6, 18, size=2)
        images[n, 0, row:row + 8, column:column + 3] += 0.8
    return numpy.clip(images, 0, 1)


def as_torch(torch, array, requires_grad=False):
    return torch.tensor(numpy.asarray(array), requires_grad=requires_grad)
