"""U-Net (Ronneberger, Fischer and Brox 2015, "U-Net: Convolutional Networks for Biomedical
Image Segmentation"): a network that labels every pixel.

The contracting path (left half of the U) is a classifier's feature extractor: at each
level two 3x3 convolutions, then a 2x2 max-pool that halves the map and a doubling of the
channels. The expanding path (right half) climbs back: an "up-convolution" doubles the map
and halves the channels, the feature map of the same level on the left is concatenated to
it (the skip connection carries the fine detail the pooling threw away), and two 3x3
convolutions merge the two. A 1x1 convolution turns the last map's channels into one
score per class and pixel.

The paper's convolutions are unpadded ("valid"): each trims a pixel on every side, so the
output is smaller than the input (572x572 in, 388x388 out) and every skip is cropped to the
centre of the map it joins. Each output pixel then sees only real image, never padding;
large images are segmented tile by tile with overlapping inputs ("overlap-tile"). With
padding="same" the map keeps its size and no crop is needed, the usual choice for small
images.
"""
from .. import functional as F
from .. import nn

PADDINGS = ("valid", "same")
UPSAMPLINGS = ("transposed", "bilinear")


class DoubleConv(nn.Module):
    """(3x3 convolution -> [BatchNorm] -> ReLU) twice: one level of either path.

    padding "valid" trims 2 pixels from each side of the map (H -> H - 4), "same" keeps it.
    With batch_norm the convolutions have no bias: the BatchNorm's beta plays its role.
    """

    def __init__(self, in_channels, out_channels, padding="valid", batch_norm=False):
        super().__init__()
        layers, channels = [], in_channels
        for _ in range(2):
            layers.append(nn.Conv2d(channels, out_channels, 3, padding=int(padding == "same"),
                                    bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU())
            channels = out_channels
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def up_convolution(channels, up):
    """Double the map and halve the channels: a 2x2 transposed convolution with stride 2
    (the paper's "up-convolution"), or bilinear upsampling then a 1x1 convolution, which has
    fewer weights and no checkerboard pattern."""
    if up == "transposed":
        return nn.ConvTranspose2d(channels, channels // 2, kernel_size=2, stride=2)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"),
                         nn.Conv2d(channels, channels // 2, kernel_size=1))


class UNet(nn.Module):
    """U-Net: (N, in_channels, H, W) images -> (N, num_classes, H', W') per-pixel logits.

    base_channels: channels of the first level; level k has base_channels * 2^k.
    depth: number of levels, the bottom one included (the paper's 5, so 4 poolings).
    padding: "valid" as in the paper (H' < H, see output_size) or "same" (H' = H).
    up: "transposed" (the paper's 2x2 up-convolution) or "bilinear" (see up_convolution).
    batch_norm: BatchNorm after every 3x3 convolution (the paper has none).

    Input sizes: with "same" padding H and W must be divisible by 2^(depth - 1). With
    "valid" padding every map that is pooled must have an even size; going back from a
    bottom map of size b, the input is P b + 4 (P - 1) with P = 2^(depth - 1), and b >= 8
    leaves an output of at least 4 pixels: for depth 5 the sizes 16 b + 60, i.e. 188, 204,
    ..., 572 (b = 32, the paper's tile), 588, ...

    Parameters: 31,030,658 for unet_paper() (the paper's network, see its docstring).
    """

    def __init__(self, in_channels=1, num_classes=2, base_channels=64, depth=5,
                 padding="valid", up="transposed", batch_norm=False):
        super().__init__()
        for name, value, choices in (("padding", padding, PADDINGS), ("up", up, UPSAMPLINGS)):
            if value not in choices:
                raise ValueError(f"UNet: {name} must be one of {', '.join(map(repr, choices))}, "
                                 f"got {value!r}")
        for name, value, minimum in (("in_channels", in_channels, 1),
                                     ("num_classes", num_classes, 1),
                                     ("base_channels", base_channels, 1), ("depth", depth, 1)):
            if not isinstance(value, int) or value < minimum:
                raise ValueError(f"UNet: {name} must be an integer >= {minimum}, got {value!r}")
        self.in_channels, self.num_classes, self.depth = in_channels, num_classes, depth
        self.padding = padding
        widths = [base_channels * 2 ** level for level in range(depth)]
        self.encoder = nn.ModuleList(
            DoubleConv(channels_in, channels, padding, batch_norm)
            for channels_in, channels in zip([in_channels] + widths, widths))
        self.pool = nn.MaxPool2d(2)
        # Climbing from the bottom: level k's map is doubled and halved to widths[k - 1]
        # channels, joined by the skip's widths[k - 1], and merged down to widths[k - 1].
        self.ups = nn.ModuleList(up_convolution(widths[k], up) for k in reversed(range(1, depth)))
        self.decoder = nn.ModuleList(DoubleConv(widths[k], widths[k - 1], padding, batch_norm)
                                     for k in reversed(range(1, depth)))
        self.head = nn.Conv2d(base_channels, num_classes, kernel_size=1)

    def forward(self, x):
        self.check_size(x.shape[2:] if x.ndim == 4 else ())
        skips = []
        for level, block in enumerate(self.encoder):
            x = block(self.pool(x) if level else x)
            skips.append(x)
        skips.pop()                      # the bottom's map is x itself, not a skip
        for up, block in zip(self.ups, self.decoder):
            x = up(x)
            skip = F.center_crop(skips.pop(), x.shape[2], x.shape[3])
            x = block(F.cat([skip, x], dim=1))
        return self.head(x)

    # --- sizes ----------------------------------------------------------------------------
    def output_size(self, size):
        """The output's side for an input side `size` (the same for "same" padding)."""
        self.check_size((size,))
        if self.padding == "same":
            return size
        for _ in range(self.depth - 1):          # down: two convolutions, a pooling
            size = (size - 4) // 2
        size -= 4                                # the bottom's convolutions
        for _ in range(self.depth - 1):          # up: a doubling, two convolutions
            size = 2 * size - 4
        return size

    def check_size(self, sizes):
        """Raise ValueError, naming the sizes that work, unless every side in `sizes` fits."""
        pools = 2 ** (self.depth - 1)
        for size in sizes:
            if self.padding == "same":
                if size % pools:
                    lower = size - size % pools
                    nearest = f"{lower} or {lower + pools}" if lower else f"{pools}"
                    raise ValueError(
                        f"UNet: an input side of {size} cannot be halved {self.depth - 1} times; "
                        f"with padding 'same' and depth {self.depth} it must be divisible by "
                        f"{pools} (nearest: {nearest})")
                continue
            # valid: size = pools * b + 4 (pools - 1) for a bottom map of side b >= 8.
            first = 8 * pools + 4 * (pools - 1)
            remainder = (size - first) % pools
            if size < first or remainder:
                lower = size - remainder
                nearest = f"{lower} or {lower + pools}" if size > first else f"{first}"
                raise ValueError(
                    f"UNet: an input side of {size} does not fit the valid-padded U-Net of depth "
                    f"{self.depth}: every pooled map must have an even side and the output at "
                    f"least 4 pixels, so the side must be {pools} b + {4 * (pools - 1)} with "
                    f"b >= 8 ({first}, {first + pools}, ...; the paper's 572 has b = 32); "
                    f"nearest: {nearest}")

    def extra_repr(self):
        return f"depth={self.depth}, padding={self.padding!r}"


def unet_paper(in_channels=1, num_classes=2):
    """The paper's network (Figure 1): 572x572 -> 388x388, 64 to 1024 channels over 5
    levels, valid convolutions, up-convolutions, no BatchNorm.

    Parameters: 31,030,658 (in_channels=1, num_classes=2).
    """
    return UNet(in_channels, num_classes, base_channels=64, depth=5, padding="valid",
                up="transposed", batch_norm=False)


def unet_small(in_channels=1, num_classes=2):
    """A U-Net that trains on a CPU in minutes: 16 to 128 channels over 4 levels, same
    padding (the output has the input's size), BatchNorm.

    Parameters: 482,466 (in_channels=1, num_classes=2).
    """
    return UNet(in_channels, num_classes, base_channels=16, depth=4, padding="same",
                up="transposed", batch_norm=True)
