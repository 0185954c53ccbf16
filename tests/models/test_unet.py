"""minicnn/models/unet.py: the paper's shapes and size, parity with a PyTorch twin, the
input-size rule and its errors."""
import pytest

import minicnn
from minicnn import models, nn
from minicnn.models.unet import UNet, unet_paper, unet_small
from tests.helpers import leaf
from tests.nn.layer_checks import check_parity, gradcheck_layer

# Figure 1 of Ronneberger et al. 2015, in the order the network computes them: the side and
# channels after every 3x3 convolution + ReLU, and after every up-convolution ("up").
PAPER_STAGES = [
    (570, 64), (568, 64), (282, 128), (280, 128), (138, 256), (136, 256), (66, 512), (64, 512),
    (30, 1024), (28, 1024),
    ("up", 56, 512), (54, 512), (52, 512), ("up", 104, 256), (102, 256), (100, 256),
    ("up", 200, 128), (198, 128), (196, 128), ("up", 392, 64), (390, 64), (388, 64)]
# The white boxes of the figure: the cropped copy of each skip, and what it is cropped from.
PAPER_CROPS = [(64, 56), (136, 104), (280, 200), (568, 392)]


def _count(model):
    return sum(p.numel() for p in model.parameters())


def test_paper_network_has_the_papers_parameter_count():
    assert _count(unet_paper()) == 31_030_658
    assert _count(unet_small()) == 482_466      # as its docstring says


def test_every_stage_has_the_shape_of_the_papers_figure():
    """The sides come from running the network with one channel at the first level, which
    has the paper's geometry at 1/64 of the width; the channels from the paper's own layers."""
    narrow = UNet(1, 2, base_channels=1, depth=5)
    stages, crops = [], []
    for name, module in narrow.named_modules():
        if isinstance(module, nn.ReLU):
            module.register_forward_hook(lambda m, i, out: stages.append(out.shape))
        elif name.startswith("ups.") and name.count(".") == 1:
            module.register_forward_hook(lambda m, i, out: stages.append(("up",) + out.shape))
        elif name.startswith("decoder.") and name.count(".") == 1:
            # The decoder block's input: [cropped skip, up-convolved map] side by side.
            module.register_forward_hook(lambda m, inputs, out: crops.append(inputs[0].shape[2]))
    out = narrow(minicnn.randn(1, 1, 572, 572))
    assert out.shape == (1, 2, 388, 388)
    sides = [stage[:1] + stage[-2:-1] if stage[0] == "up" else stage[-2:-1] for stage in stages]
    assert sides == [stage[:-1] for stage in PAPER_STAGES]
    assert crops == [cropped for _, cropped in PAPER_CROPS]

    paper = unet_paper()
    in_order = list(paper.encoder) + [m for pair in zip(paper.ups, paper.decoder) for m in pair]
    channels = [m.out_channels for block in in_order for m in block.modules()
                if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert channels == [stage[-1] for stage in PAPER_STAGES]
    assert paper.head.out_channels == 2 and paper.output_size(572) == 388


def torch_unet(torch, in_channels, num_classes, base_channels, depth, padding, up, batch_norm):
    """The same network in PyTorch, module for module, so that state_dicts line up."""
    tnn = torch.nn

    def double_conv(channels_in, channels):
        layers = []
        for first in (channels_in, channels):
            layers.append(tnn.Conv2d(first, channels, 3, padding=int(padding == "same"),
                                     bias=not batch_norm))
            layers += [tnn.BatchNorm2d(channels)] if batch_norm else []
            layers.append(tnn.ReLU())
        block = tnn.Module()
        block.layers = tnn.Sequential(*layers)
        block.forward = block.layers.forward
        return block

    widths = [base_channels * 2 ** k for k in range(depth)]

    class TorchUNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = tnn.ModuleList(double_conv(a, b) for a, b in
                                          zip([in_channels] + widths, widths))
            self.pool = tnn.MaxPool2d(2)
            self.ups = tnn.ModuleList(
                tnn.ConvTranspose2d(widths[k], widths[k] // 2, 2, stride=2) if up == "transposed"
                else tnn.Sequential(tnn.Upsample(scale_factor=2, mode="bilinear"),
                                    tnn.Conv2d(widths[k], widths[k] // 2, 1))
                for k in reversed(range(1, depth)))
            self.decoder = tnn.ModuleList(double_conv(widths[k], widths[k - 1])
                                          for k in reversed(range(1, depth)))
            self.head = tnn.Conv2d(base_channels, num_classes, 1)

        def forward(self, x):
            skips = []
            for level, block in enumerate(self.encoder):
                x = block(self.pool(x) if level else x)
                skips.append(x)
            skips.pop()
            for up_block, block in zip(self.ups, self.decoder):
                x = up_block(x)
                skip = skips.pop()
                top, left = (skip.shape[2] - x.shape[2]) // 2, (skip.shape[3] - x.shape[3]) // 2
                skip = skip[:, :, top:top + x.shape[2], left:left + x.shape[3]]
                x = block(torch.cat([skip, x], dim=1))
            return self.head(x)

    return TorchUNet()


@pytest.mark.parametrize("padding, up, batch_norm, side", [
    ("valid", "transposed", False, 44),     # 44 = 4 b + 12 with b = 8 at depth 3
    ("valid", "bilinear", True, 44),
    ("same", "transposed", True, 16),
    ("same", "bilinear", False, 12)])
def test_forward_and_backward_match_pytorch(torch, padding, up, batch_norm, side):
    options = dict(in_channels=2, num_classes=3, base_channels=4, depth=3, padding=padding,
                   up=up, batch_norm=batch_norm)
    ours, theirs = UNet(**options), torch_unet(torch, **options)
    check_parity(torch, ours, theirs, leaf((2, 2, side, side)), rtol=1e-6, atol=1e-8)
    assert ours(leaf((1, 2, side, side))).shape[2] == ours.output_size(side)


def test_gradcheck_through_a_tiny_unet():
    model = UNet(1, 2, base_channels=2, depth=2, padding="same").double()
    assert gradcheck_layer(model, leaf((1, 1, 4, 4)))


def test_sizes_that_do_not_fit_are_explained():
    with pytest.raises(ValueError, match=r"side of 570 does not fit the valid-padded U-Net of "
                                         r"depth 5.*16 b \+ 60 with b >= 8 \(188, 204, .*572.*"
                                         r"nearest: 556 or 572"):
        unet_paper()(minicnn.zeros(1, 1, 570, 570))
    with pytest.raises(ValueError, match="nearest: 188$"):
        unet_paper().output_size(100)
    with pytest.raises(ValueError, match=r"side of 30 cannot be halved 3 times.*divisible by 8 "
                                         r"\(nearest: 24 or 32\)"):
        unet_small()(minicnn.zeros(1, 1, 32, 30))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 1, H, W\), got "
                                         r"\(1, 3, 32, 32\)"):
        unet_small()(minicnn.zeros(1, 3, 32, 32))


@pytest.mark.parametrize("arguments, message", [
    (dict(padding="reflect"), "padding must be one of 'valid', 'same', got 'reflect'"),
    (dict(up="nearest"), "up must be one of 'transposed', 'bilinear', got 'nearest'"),
    (dict(depth=0), "depth must be an integer >= 1, got 0")])
def test_bad_arguments_are_explained(arguments, message):
    with pytest.raises(ValueError, match=message):
        UNet(**arguments)


def test_registered_and_sized_for_the_command_line():
    model = models.get_model("unet_small", in_channels=3, num_classes=6)
    assert model(minicnn.zeros(2, 3, 32, 32)).shape == (2, 6, 32, 32)
