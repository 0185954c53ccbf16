"""Size arguments are checked when a layer is made (minicnn/nn/checks.py and the layers):
the error names the layer, the argument, what was expected and what was received."""
import pytest

from minicnn import nn


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Linear(-1, 3), r"Linear: in_features must be a positive integer, got -1"),
    (lambda: nn.Linear(4, 0), r"Linear: out_features must be a positive integer, got 0"),
    (lambda: nn.Linear(2.5, 3), r"Linear: in_features must be a positive integer, got 2.5"),
    (lambda: nn.Linear(True, 3), r"Linear: in_features must be a positive integer, got True"),
    (lambda: nn.Conv2d(-2, 3, 3), r"Conv2d: in_channels must be a positive integer, got -2"),
    (lambda: nn.Conv2d(2, 4, 3, groups=0), r"Conv2d: groups must be a positive integer, got 0"),
    (lambda: nn.Conv2d(2, 3, 0), r"Conv2d: kernel_size must be at least 1, got 0"),
    (lambda: nn.Conv2d(2, 3, (3, 3, 3)), r"Conv2d: kernel_size must be an int or 2 ints, "
                                         r"got \(3, 3, 3\)"),
    (lambda: nn.Conv2d(2, 3, 3, stride=0), r"Conv2d: stride must be at least 1, got 0"),
    (lambda: nn.Conv2d(2, 3, 3, padding=-1), r"Conv2d: padding must be at least 0, got -1"),
    (lambda: nn.Conv2d(2, 3, 3, padding="full"), r"Conv2d: padding must be 'same', 'valid' "
                                                 r"or numbers, got 'full'"),
    (lambda: nn.Conv1d(2, 3, 3, dilation=0), r"Conv1d: dilation must be at least 1, got 0"),
    (lambda: nn.ConvTranspose2d(2, 3, 3, output_padding=-1),
     r"ConvTranspose2d: output_padding must be at least 0, got -1"),
    (lambda: nn.BatchNorm2d(-1), r"BatchNorm2d: num_features must be a positive integer, got -1"),
    (lambda: nn.BatchNorm1d(0), r"BatchNorm1d: num_features must be a positive integer, got 0"),
    (lambda: nn.LayerNorm((4, 0)), r"LayerNorm: normalized_shape\[1\] must be a positive "
                                   r"integer, got 0"),
    (lambda: nn.GroupNorm(0, 4), r"GroupNorm: num_groups must be a positive integer, got 0"),
    (lambda: nn.Embedding(-1, 3), r"Embedding: num_embeddings must be a positive integer, "
                                  r"got -1"),
    (lambda: nn.MaxPool2d(0), r"MaxPool2d: kernel_size must be at least 1, got 0"),
    (lambda: nn.MaxPool2d(2, padding=-1), r"MaxPool2d: padding must be at least 0, got -1"),
    (lambda: nn.AvgPool2d(2, stride=0), r"AvgPool2d: stride must be at least 1, got 0"),
    (lambda: nn.AdaptiveAvgPool2d((2, -1)), r"AdaptiveAvgPool2d: output_size must be a "
                                            r"positive int or 2 of them .*, got \(2, -1\)"),
])
def test_bad_sizes_are_refused_when_the_layer_is_made(make, message):
    with pytest.raises(ValueError, match=rf"^{message}$"):
        make()


def test_good_sizes_are_kept_as_before():
    conv = nn.Conv2d(2, 4, [3, 1], stride=(2, 1), padding="same", groups=2)
    assert conv.kernel_size == (3, 1) and conv.stride == (2, 1) and conv.padding == "same"
    assert conv.weight.shape == (4, 1, 3, 1)
    assert nn.AdaptiveMaxPool2d((None, 3)).output_size == (None, 3)
    assert nn.LayerNorm([2, 3]).weight.shape == (2, 3)
