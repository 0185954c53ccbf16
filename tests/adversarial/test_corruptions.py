"""Each corruption does what its table row says, stays in [0, 1], grows with the severity,
repeats with the seed and leaves minicnn's generator alone; bad arguments are named."""
import numpy
import pytest

import minicnn
from minicnn.adversarial.corruptions import LEVELS, SEVERITIES, corrupt, gradcam_peaks
from minicnn.backend.random import get_rng_state
from tests.explain.twins import digits


def _images():
    return digits(6, seed=2)


@pytest.mark.parametrize("name", [n for n in LEVELS if n != "occlusion_gradcam"])
def test_every_corruption_stays_in_range_repeats_with_its_seed_and_grows(name):
    images = _images()
    state = get_rng_state()
    changes = []
    for severity in SEVERITIES:
        out = corrupt(images, name, severity, seed=5)
        assert out.shape == images.shape and out.dtype == images.dtype
        assert out.min() >= 0 and out.max() <= 1
        numpy.testing.assert_array_equal(out, corrupt(images, name, severity, seed=5))
        changes.append(numpy.abs(out - images).mean())
    assert get_rng_state() == state
    assert changes[0] > 0 and changes[-1] > changes[0]


def test_the_simple_ones_follow_their_formulas():
    images = _images()
    numpy.testing.assert_allclose(corrupt(images, "brightness", 3),
                                  numpy.clip(images + 0.3, 0, 1))
    mean = images.mean(axis=(1, 2, 3), keepdims=True)
    numpy.testing.assert_allclose(corrupt(images, "contrast", 2),
                                  numpy.clip(0.5 * images + 0.5 * mean, 0, 1), rtol=1e-6)
    noisy = corrupt(images, "salt_and_pepper", 5)
    changed = noisy != images
    assert numpy.isin(noisy[changed], [0.0, 1.0]).all()
    assert abs(changed.mean() - 0.27) < 0.05


def test_blur_equals_scipys_gaussian_filter_inside_the_image():
    ndimage = pytest.importorskip("scipy.ndimage")
    images = _images()
    blurred = corrupt(images, "blur", 3)                      # sigma 1, 7 taps
    expected = ndimage.gaussian_filter(images, sigma=(0, 0, 1.0, 1.0), truncate=3.0,
                                       mode="mirror")
    numpy.testing.assert_allclose(blurred, expected, atol=1e-6)


def test_occlusion_is_a_grey_square_of_the_severitys_size():
    images = numpy.zeros((3, 1, 28, 28), dtype=numpy.float32)
    for severity, fraction in zip(SEVERITIES, LEVELS["occlusion"]):
        out = corrupt(images, "occlusion", severity)
        side = round(fraction * 28)
        for image in out[:, 0]:
            rows, cols = numpy.nonzero(image == 0.5)
            assert rows.max() - rows.min() + 1 == side and cols.max() - cols.min() + 1 == side
            assert (image == 0.5).sum() == side * side


def test_object_cutout_removes_part_of_the_object_and_nothing_else():
    images = numpy.zeros((2, 1, 28, 28), dtype=numpy.float32)
    images[:, :, 8:20, 12:16] = 1.0                          # a bar on a black background
    out = corrupt(images, "object_cutout", 2)
    assert set(numpy.unique(out)) <= {0.0, 1.0}               # filled with the background
    removed = (images == 1) & (out == 0)
    assert removed.sum(axis=(1, 2, 3)).min() > 0 and not ((images == 0) & (out != 0)).any()


def test_occlusion_at_the_grad_cam_peak_covers_the_peak():
    model = minicnn.models.LeNet5().eval()
    images, labels = _images(), numpy.arange(6)
    peaks = gradcam_peaks(model, images, labels)
    out = corrupt(images, "occlusion_gradcam", 3, model=model, labels=labels)
    side = round(0.4 * 28)
    for n, (row, col) in enumerate(peaks):
        rows, cols = numpy.nonzero(out[n, 0] == 0.5)
        assert (rows.min(), cols.min()) == (min(max(row - side // 2, 0), 28 - side),
                                            min(max(col - side // 2, 0), 28 - side))
    with pytest.raises(ValueError, match="occlusion_gradcam .* needs model= and labels="):
        corrupt(images, "occlusion_gradcam", 1)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="corrupt: unknown corruption 'fog'; choose from "
                                         "gaussian_noise"):
        corrupt(_images(), "fog", 1)
    with pytest.raises(ValueError, match="corrupt: severity must be 1, 2, 3, 4 or 5, got 6"):
        corrupt(_images(), "blur", 6)
    with pytest.raises(ValueError, match=r"corrupt: images must lie in \[0, 1\]"):
        corrupt(_images() * 2, "blur", 1)
    with pytest.raises(ValueError, match=r"corrupt: images must be a float batch \(N, C, H, W\)"):
        corrupt(_images()[0], "blur", 1)
