"""ResNets for 32x32 images, as in He et al. 2016 ("Deep Residual Learning", section 4.2).

A residual block learns a correction F(x) to its input and outputs relu(F(x) + x): at
initialisation a block is close to the identity, so gradients reach the first layers of
even a 110-layer network. The CIFAR family has depth 6n + 2: one 3x3 convolution, three
stages of n BasicBlocks (two 3x3 convolutions each) at 16, 32 and 64 channels on 32x32,
16x16 and 8x8 maps, then global average pooling and a linear classifier.
"""
from functools import partial

from .. import functional as F
from .. import nn
from .pretrained import with_weights


class PadShortcut(nn.Module):
    """Option A shortcut: subsample by `stride` and append zero channels. It has no
    parameters, which keeps resnet20 at the paper's 0.27M."""

    def __init__(self, stride, extra_channels):
        super().__init__()
        self.stride, self.extra_channels = stride, extra_channels

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        before = self.extra_channels // 2
        return F.pad(x, (0, 0, 0, 0, before, self.extra_channels - before))

    def extra_repr(self):
        return f"stride={self.stride}, extra_channels={self.extra_channels}"


class BasicBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); conv1 carries the stride.

    The shortcut is the identity when the shape is kept; otherwise option "A" (PadShortcut,
    no parameters) or "B" (1x1 convolution + BatchNorm, a learned projection).
    """

    def __init__(self, in_channels, channels, stride=1, shortcut="A"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        if stride == 1 and in_channels == channels:
            self.shortcut = nn.Identity()
        elif shortcut == "A":
            self.shortcut = PadShortcut(stride, channels - in_channels)
        elif shortcut == "B":
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels))
        else:
            raise ValueError(f"BasicBlock: shortcut must be 'A' or 'B', got {shortcut!r}")

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for (N, in_channels, 32, 32) inputs -> (N, num_classes) logits.

    depth: 20, 32, 44, 56, 110, ... (or 8 for a quick test); width: channels of the first
    stage (16 in the paper; the others are 2x and 4x). Convolutions use He (kaiming) normal
    initialisation with fan_out, as torchvision's ResNets do.

    Parameters: 269,722 for resnet20 (depth=20, width=16, shortcut="A", num_classes=10).
    """

    def __init__(self, depth=20, num_classes=10, in_channels=3, width=16, shortcut="A"):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"CifarResNet: depth must be 6n + 2 (8, 14, 20, 32, ...), got {depth}")
        blocks = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        stages, channels = [], width
        for stage, stage_width in enumerate((width, 2 * width, 4 * width)):
            stride = 1 if stage == 0 else 2
            layer = []
            for block in range(blocks):
                layer.append(BasicBlock(channels, stage_width, stride if block == 0 else 1,
                                        shortcut))
                channels = stage_width
            stages.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(F.flatten(self.pool(x), 1))


def resnet20(num_classes=10, in_channels=3, shortcut="A"):
    """ResNet-20, 3 blocks per stage. Parameters: 269,722 (num_classes=10, shortcut "A")."""
    return CifarResNet(20, num_classes, in_channels, shortcut=shortcut)


def resnet_tiny(*, weights=None, **options):
    """ResNet-8 with 4/8/16 channels, for fast tests and small enough to ship pretrained.

    options: num_classes (10), in_channels (3), shortcut ("A"), as for CifarResNet.
    weights: None for random weights, or the name of weights minicnn trained and ships
    (minicnn.models.pretrained.available()), e.g. "mnist5k-0to4"; they fix in_channels and
    num_classes. Parameters: 5,006 (num_classes=10).
    """
    return with_weights("resnet_tiny", weights, partial(CifarResNet, 8, width=4), options)
