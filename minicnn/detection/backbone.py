"""A small convolutional backbone for detection on small images: feature maps at strides 4,
8 and 16, the levels the detectors read (SSD all three, the two-stage detector the first).

    stem     conv 3x3 (C -> w0), conv 3x3 stride 2 (w0 -> w0)          S/2
    stage 1  conv 3x3 stride 2 (w0 -> w1), conv 3x3 (w1 -> w1)          S/4   -> feature 0
    stage 2  conv 3x3 stride 2 (w1 -> w2), conv 3x3 (w2 -> w2)          S/8   -> feature 1
    stage 3  conv 3x3 stride 2 (w2 -> w3), conv 3x3 (w3 -> w3)          S/16  -> feature 2

each convolution followed by BatchNorm and ReLU. With the default widths (16, 32, 64, 96) it
has about 0.15M parameters and costs about 14M multiply-adds on a 64 x 64 image.
"""
from .. import nn

__all__ = ["Backbone", "conv_bn_relu"]

STRIDES = (4, 8, 16)


def conv_bn_relu(in_channels, out_channels, stride=1):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


class Backbone(nn.Module):
    def __init__(self, in_channels=3, widths=(16, 32, 64, 96), levels=3):
        super().__init__()
        if len(widths) != 4 or not 1 <= levels <= 3:
            raise ValueError(f"Backbone: widths must be 4 channel counts and levels in 1..3, "
                             f"got {widths} and {levels}")
        self.widths, self.levels = tuple(widths), levels
        self.stem = nn.Sequential(conv_bn_relu(in_channels, widths[0]),
                                  conv_bn_relu(widths[0], widths[0], stride=2))
        self.stages = nn.ModuleList([nn.Sequential(conv_bn_relu(widths[k], widths[k + 1], stride=2),
                                                   conv_bn_relu(widths[k + 1], widths[k + 1]))
                                     for k in range(levels)])

    @property
    def out_channels(self):
        return list(self.widths[1:1 + self.levels])

    @property
    def strides(self):
        return list(STRIDES[:self.levels])

    def forward(self, images):
        """(N, C, S, S) -> [feature maps at strides 4, 8, 16][:levels]."""
        features, x = [], self.stem(images)
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features
