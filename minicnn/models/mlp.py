"""A multilayer perceptron: the baseline every convolutional network is compared with."""
from .. import nn


class MLP(nn.Module):
    """Flatten -> (Linear -> ReLU) for each hidden width -> Linear to the class scores.

    Input (N, *) with in_features values per sample (a 1x28x28 MNIST image has 784);
    output (N, num_classes) logits.

    Parameters: 235,146 (defaults: 784 -> 256 -> 128 -> 10), that is
    784*256 + 256 + 256*128 + 128 + 128*10 + 10.
    """

    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10):
        super().__init__()
        layers = [nn.Flatten()]
        widths = (in_features,) + tuple(hidden)
        for width_in, width_out in zip(widths, widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)
