"""A small VGG-style network for 32x32 images (Simonyan & Zisserman 2015, scaled down)."""
from .. import nn

# Output channels of each 3x3 convolution; "M" is a 2x2 max-pool that halves the size.
VGG_SMALL = (32, 32, "M", 64, 64, "M", 128, 128, "M")


class VGGSmall(nn.Module):
    """Stacks of conv3x3 -> BatchNorm -> ReLU, each stack ending in a 2x2 max-pool, then a
    two-layer classifier with dropout.

    Input (N, in_channels, 32, 32); three pools leave 128 x 4 x 4 = 2048 features.
    Output (N, num_classes) logits. Convolutions have no bias because the BatchNorm that
    follows subtracts the mean anyway (its beta plays the bias's role).

    Parameters: 814,570 (in_channels=3, num_classes=10): convolutions 286,560,
    batch norms 896, classifier 524,544 + 2,570.
    """

    def __init__(self, in_channels=3, num_classes=10, config=VGG_SMALL, hidden=256, dropout=0.5):
        super().__init__()
        layers, channels = [], in_channels
        for item in config:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(channels, item, kernel_size=3, padding=1, bias=False),
                           nn.BatchNorm2d(item), nn.ReLU()]
                channels = item
        pools = sum(item == "M" for item in config)
        side = 32 // 2 ** pools
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * side * side, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
