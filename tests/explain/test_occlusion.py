"""Occlusion equals Captum's for several windows, strides and baselines; its windows are
Captum's; bad windows and strides are refused by name."""
import numpy
import pytest

import minicnn
from minicnn.explain import Occlusion
from minicnn.explain.occlusion import window_slices
from tests.explain.twins import as_torch, digits, lenet_pair


@pytest.mark.parametrize("window, stride, baseline", [((5, 5), 2, 0.0), ((1, 6, 4), (1, 3, 4), 0.5),
                                                      ((7, 7), 7, 0.2)])
def test_equals_captum(torch, window, stride, baseline):
    captum = pytest.importorskip("captum.attr")
    ours, theirs = lenet_pair(torch)
    images, targets = digits(2), [4, 2]
    full_window = window if len(window) == 3 else (1,) + window
    full_stride = stride if isinstance(stride, tuple) else (1, stride, stride)
    expected = captum.Occlusion(theirs).attribute(
        as_torch(torch, images), sliding_window_shapes=full_window, strides=full_stride,
        baselines=baseline, target=torch.tensor(targets), perturbations_per_eval=16)
    got = Occlusion(ours)(images, targets, window=window, stride=stride, baseline=baseline,
                          batch_size=20)
    numpy.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_windows_cover_the_image_and_the_last_one_sticks_out():
    windows = window_slices("Occlusion", (1, 10, 10), (4, 4), 4)
    starts = sorted({region[1].start for region in windows})
    assert starts == [0, 4, 8] and len(windows) == 9    # ceil((10 - 4) / 4) + 1 = 3 per axis
    covered = numpy.zeros((1, 10, 10))
    for region in windows:
        covered[region] += 1
    assert covered.min() == 1 and covered.max() == 1    # the last window is cut at the border
    with pytest.raises(ValueError, match="stride .* is larger than the window"):
        Occlusion(minicnn.models.LeNet5().eval())(digits(1), 0, window=(3, 3), stride=4)


def test_bad_windows_are_refused():
    model = minicnn.models.LeNet5().eval()
    with pytest.raises(ValueError, match=r"window \(1, 30, 3\) is larger than the image"):
        Occlusion(model)(digits(1), 0, window=(30, 3))
    with pytest.raises(ValueError, match="window must be a number, \\(h, w\\) or \\(c, h, w\\)"):
        Occlusion(model)(digits(1), 0, window=(1, 2, 3, 4))
    with pytest.raises(ValueError, match="window must be >= 1"):
        Occlusion(model)(digits(1), 0, window=0)
