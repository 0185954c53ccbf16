"""Networks for the explain and adversarial tests: minicnn models and their PyTorch twins
with the same weights (for the Captum and torchattacks comparisons), and a trained LeNet-5."""
import functools

import numpy

import minicnn
from minicnn import nn
from minicnn.models import LeNet5
from tests.nn.test_state import torch_lenet5


def copy_weights(torch, ours, theirs):
    """Load our state_dict into the torch model (the names are the same); returns it in eval
    mode."""
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


@functools.lru_cache(maxsize=None)
def _trained_lenet_state(epochs):
    from minicnn.data import DataLoader, get_dataset
    from minicnn.functional import cross_entropy
    minicnn.manual_seed(0)
    model = LeNet5()
    optimizer = minicnn.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        for images, labels in DataLoader(get_dataset("mnist5k", train=True), batch_size=64,
                                         shuffle=True):
            optimizer.zero_grad()
            cross_entropy(model(images), labels).backward()
            optimizer.step()
    return {name: value.numpy().copy() for name, value in model.state_dict().items()}


def trained_lenet(epochs=1):
    """LeNet-5 trained on MNIST-5k's 4,000 training digits (seed 0, Adam 2e-3, batch 64) for
    `epochs` epochs (one: about 84% test accuracy, 4 s), in eval mode; trained once per
    process, a fresh model each call."""
    model = LeNet5()
    model.load_state_dict({name: minicnn.tensor(value)
                           for name, value in _trained_lenet_state(epochs).items()})
    return model.eval()


def mnist_test_digits(count):
    """The first `count` images and labels of MNIST-5k's test split, as arrays."""
    from minicnn.data import DataLoader, get_dataset
    images, labels = next(iter(DataLoader(get_dataset("mnist5k", train=False), batch_size=count)))
    return images.numpy(), labels.numpy()
