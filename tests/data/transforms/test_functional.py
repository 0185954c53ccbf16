"""The functional forms (minicnn/data/transforms/functional.py) against SciPy, colorsys and
torchvision's documented formulas (torchvision does not import beside this torch)."""
import colorsys

import numpy
import pytest
from hypothesis import given, strategies as st

import minicnn
from minicnn.data.transforms import functional as F

ndimage = pytest.importorskip("scipy.ndimage")

# Angles in hundredths of a degree: quarter turns included, no subnormal floats.
angles = st.integers(-36000, 36000).map(lambda a: a / 100)
sizes = st.integers(1, 9)


def images(seed, shape, dtype=numpy.float64):
    return numpy.random.default_rng(seed).random(shape).astype(dtype)


def per_channel(function, image):
    return numpy.stack([function(channel) for channel in image])


def off_the_border(matrix, offset, shape):
    """Output pixels whose sample point (matrix @ (row, col) + offset, SciPy's map) is not
    within 1e-9 of the first or last row or column. A point exactly on the border is inside
    and one a rounding error past it is outside (mode='constant' does not blend there), so
    two correct computations of the same map may disagree at such points, and only there.
    """
    grid = numpy.indices(shape).reshape(2, -1).astype(numpy.float64)
    points = matrix @ grid + numpy.asarray(offset)[:, None]
    near = numpy.zeros(points.shape[1], bool)
    for axis, size in enumerate(shape):
        near |= (numpy.abs(points[axis]) < 1e-9) | (numpy.abs(points[axis] - (size - 1)) < 1e-9)
    return ~near.reshape(shape)


# --- geometry against SciPy ----------------------------------------------------------------

@given(seed=st.integers(0, 2**16), channels=st.sampled_from([1, 3]), height=sizes, width=sizes,
       angle=angles)
def test_rotate_equals_scipy_rotate_channel_by_channel(seed, channels, height, width, angle):
    image = images(seed, (channels, height, width))
    expected = per_channel(lambda c: ndimage.rotate(c, angle, reshape=False, order=1,
                                                    mode="constant", cval=0.25), image)
    a = numpy.deg2rad(angle)
    matrix = numpy.array([[numpy.cos(a), numpy.sin(a)], [-numpy.sin(a), numpy.cos(a)]])
    centre = (numpy.array([height, width]) - 1) / 2
    compared = off_the_border(matrix, centre - matrix @ centre, (height, width))
    numpy.testing.assert_allclose(F.rotate(image, angle, fill=0.25)[:, compared],
                                  expected[:, compared], atol=1e-12)


def test_rotate_turns_counter_clockwise_and_quarter_turns_are_exact():
    image = images(1, (2, 5, 5))
    for turns in (1, 2, 3, -1):
        numpy.testing.assert_array_equal(F.rotate(image, 90 * turns),
                                         numpy.rot90(image, turns, axes=(1, 2)))
    # A dot right of the centre moves above it when turned by +90 degrees.
    dot = numpy.zeros((1, 5, 5))
    dot[0, 2, 4] = 1
    assert F.rotate(dot, 90)[0, 0, 2] == 1
    float32 = images(2, (3, 6, 6), numpy.float32)
    assert F.rotate(float32, 17.0).dtype == numpy.float32


def torchvision_forward_map(angle, translate, scale, shear, height, width):
    """torchvision's M = T C R(a) S(s) SHy(sy) SHx(sx) C^-1 from elementary matrices, with its
    shears SHx(s) = [[1, -tan s], [0, 1]], SHy(s) = [[1, 0], [-tan s, 1]] and rotation
    R(a) = [[cos a, -sin a], [sin a, cos a]] in (x, y) pixel-centre coordinates."""
    a, sx, sy = numpy.deg2rad([angle, shear[0], shear[1]])
    rotation = numpy.array([[numpy.cos(a), -numpy.sin(a)], [numpy.sin(a), numpy.cos(a)]])
    shear_x = numpy.array([[1, -numpy.tan(sx)], [0, 1]])
    shear_y = numpy.array([[1, 0], [-numpy.tan(sy), 1]])
    linear = rotation @ (scale * numpy.eye(2)) @ shear_y @ shear_x
    centre = numpy.array([(width - 1) / 2, (height - 1) / 2])
    return linear, centre + numpy.asarray(translate) - linear @ centre


@given(seed=st.integers(0, 2**16), height=sizes, width=sizes, angle=angles,
       translate=st.tuples(st.integers(-3, 3), st.integers(-3, 3)),
       scale=st.floats(0.5, 2.0), shear=st.tuples(st.integers(-30, 30), st.integers(-30, 30)))
def test_affine_equals_scipy_affine_transform(seed, height, width, angle, translate, scale, shear):
    image = images(seed, (2, height, width))
    linear, offset = torchvision_forward_map(angle, translate, scale, shear, height, width)
    inverse = numpy.linalg.inv(linear)
    # SciPy's maps act on (row, column) = (y, x): swap both axes of the inverse map.
    matrix = inverse[::-1, ::-1]
    shift = (-inverse @ offset)[::-1]
    expected = per_channel(lambda c: ndimage.affine_transform(c, matrix, shift, order=1,
                                                              mode="constant", cval=0), image)
    compared = off_the_border(matrix, shift, (height, width))
    numpy.testing.assert_allclose(F.affine(image, angle, translate, scale, shear)[:, compared],
                                  expected[:, compared], atol=1e-9)


def test_affine_is_rotate_with_the_opposite_angle_as_in_torchvision():
    image = images(3, (3, 7, 6))
    numpy.testing.assert_array_equal(F.affine(image, -25.0, (0, 0), 1.0, 0),
                                     F.rotate(image, 25.0))


@given(seed=st.integers(0, 2**16), height=sizes, width=sizes, out_height=st.integers(1, 14),
       out_width=st.integers(1, 14), interpolation=st.sampled_from(["bilinear", "nearest"]))
def test_resize_equals_scipy_zoom_in_grid_mode(seed, height, width, out_height, out_width,
                                               interpolation):
    image = images(seed, (2, height, width))
    zoom = (out_height / height, out_width / width)
    expected = per_channel(lambda c: ndimage.zoom(c, zoom, order=int(interpolation == "bilinear"),
                                                  mode="nearest", grid_mode=True), image)
    assert expected.shape[1:] == (out_height, out_width)
    numpy.testing.assert_allclose(F.resize(image, (out_height, out_width), interpolation),
                                  expected, atol=1e-12)


def test_resize_agrees_with_torch_interpolate(torch):
    image = images(4, (2, 3, 7, 9))
    ours = F.resize(image, (11, 5))
    theirs = torch.nn.functional.interpolate(torch.tensor(image), size=(11, 5), mode="bilinear",
                                             align_corners=False)
    numpy.testing.assert_allclose(ours, theirs.numpy(), atol=1e-12)
    assert F.resize(image, 14).shape == (2, 3, 14, 18)      # the shorter side, as torchvision


def test_flips_crop_and_pad_are_exact():
    image = images(5, (2, 4, 6))
    numpy.testing.assert_array_equal(F.hflip(image), image[:, :, ::-1])
    numpy.testing.assert_array_equal(F.vflip(image), image[:, ::-1])
    numpy.testing.assert_array_equal(F.crop(image, 1, 2, 3, 3), image[:, 1:4, 2:5])
    outside = F.crop(image, -1, 4, 3, 3)             # torchvision pads a window past the edge
    numpy.testing.assert_array_equal(outside, numpy.pad(image, ((0, 0), (1, 0), (0, 1)))[:, 0:3, 4:7])
    numpy.testing.assert_array_equal(F.pad(image, (1, 2), fill=0.5),
                                     numpy.pad(image, ((0, 0), (2, 2), (1, 1)), constant_values=0.5))
    numpy.testing.assert_array_equal(F.pad(image, (1, 0, 2, 3), padding_mode="reflect"),
                                     numpy.pad(image, ((0, 0), (0, 3), (1, 2)), mode="reflect"))
    # Per-image windows: one crop per image of the batch.
    batch = images(6, (3, 1, 5, 5))
    out = F.crop(batch, numpy.array([0, 1, 2]), numpy.array([2, 0, 1]), 2, 3)
    for n, (top, left) in enumerate([(0, 2), (1, 0), (2, 1)]):
        numpy.testing.assert_array_equal(out[n], batch[n, :, top:top + 2, left:left + 3])


def test_center_crop_places_the_window_as_torchvision():
    image = numpy.arange(5 * 6, dtype=numpy.float64).reshape(1, 5, 6)
    # top = round((5 - 2) / 2) = 2 (Python rounds 1.5 to 2), left = round((6 - 3) / 2) = 2.
    numpy.testing.assert_array_equal(F.center_crop(image, (2, 3)), image[:, 2:4, 2:5])
    larger = F.center_crop(image, (8, 6))          # (8 - 5) // 2 = 1 row of padding above
    numpy.testing.assert_array_equal(larger[:, 1:6], image)
    assert larger[:, 0].sum() == 0 and larger[:, 6:].sum() == 0


def test_resized_crop_equals_crop_then_resize():
    batch = images(7, (3, 2, 9, 8))
    tops, lefts, heights, widths = [0, 3, 1], [2, 0, 4], [5, 6, 8], [4, 7, 3]
    out = F.resized_crop(batch, tops, lefts, heights, widths, (6, 5))
    for n in range(3):
        window = F.crop(batch[n], tops[n], lefts[n], heights[n], widths[n])
        numpy.testing.assert_allclose(out[n], F.resize(window, (6, 5)), atol=1e-12)


def test_elastic_with_a_constant_field_is_a_shift():
    image = images(8, (1, 6, 7))
    field = numpy.zeros((2, 6, 7))
    numpy.testing.assert_array_equal(F.elastic(image, field), image)
    field[0], field[1] = 2, -1                    # read 2 columns right, 1 row up
    expected = numpy.zeros_like(image)
    expected[:, 1:, :5] = image[:, :-1, 2:]
    numpy.testing.assert_array_equal(F.elastic(image, field), expected)


# --- colour against the formulas torchvision documents --------------------------------------

def test_brightness_contrast_saturation_blend_and_clamp():
    image = images(9, (3, 4, 5))
    numpy.testing.assert_allclose(F.adjust_brightness(image, 1.7), numpy.clip(1.7 * image, 0, 1))
    gray = 0.2989 * image[0] + 0.587 * image[1] + 0.114 * image[2]
    numpy.testing.assert_allclose(F.rgb_to_grayscale(image)[0], gray)
    numpy.testing.assert_allclose(F.rgb_to_grayscale(image, 3), numpy.stack([gray] * 3))
    numpy.testing.assert_allclose(F.adjust_contrast(image, 0.3),
                                  numpy.clip(0.3 * image + 0.7 * gray.mean(), 0, 1))
    numpy.testing.assert_allclose(F.adjust_saturation(image, 1.8),
                                  numpy.clip(1.8 * image - 0.8 * gray, 0, 1))
    one_channel = image[:1]
    numpy.testing.assert_array_equal(F.adjust_saturation(one_channel, 0.0), one_channel)
    numpy.testing.assert_allclose(F.adjust_contrast(one_channel, 0.0),
                                  numpy.full_like(one_channel, one_channel.mean()))
    # One factor per image of a batch.
    batch = numpy.stack([image, image])
    out = F.adjust_brightness(batch, [0.5, 1.0])
    numpy.testing.assert_allclose(out[0], 0.5 * image)
    numpy.testing.assert_allclose(out[1], image)


def test_adjust_hue_equals_colorsys():
    image = images(10, (3, 6, 7))
    image[:, 0, 0] = 0.5                           # a gray pixel: no hue to turn
    image[:, 0, 1] = [1.0, 0.0, 0.0]
    for factor in (-0.5, -0.13, 0.0, 0.27, 0.5):
        expected = numpy.empty_like(image)
        for i in range(6):
            for j in range(7):
                h, s, v = colorsys.rgb_to_hsv(*image[:, i, j])
                expected[:, i, j] = colorsys.hsv_to_rgb((h + factor) % 1.0, s, v)
        numpy.testing.assert_allclose(F.adjust_hue(image, factor), expected, atol=1e-12)


def test_gaussian_blur_equals_scipy_correlate_with_mirrored_edges():
    image = images(11, (2, 3, 9, 8))
    kernel_x, kernel_y, sigma_x, sigma_y = 5, 3, 1.3, 0.7

    def kernel(size, sigma):          # torchvision's _get_gaussian_kernel1d
        taps = numpy.linspace(-(size - 1) * 0.5, (size - 1) * 0.5, size)
        weights = numpy.exp(-0.5 * (taps / sigma) ** 2)
        return weights / weights.sum()
    expected = ndimage.correlate1d(image, kernel(kernel_x, sigma_x), axis=3, mode="mirror")
    expected = ndimage.correlate1d(expected, kernel(kernel_y, sigma_y), axis=2, mode="mirror")
    numpy.testing.assert_allclose(F.gaussian_blur(image, (kernel_x, kernel_y), (sigma_x, sigma_y)),
                                  expected, atol=1e-12)
    per_image = F.gaussian_blur(image, 3, [[0.5, 0.5], [2.0, 2.0]])
    numpy.testing.assert_allclose(per_image[1], F.gaussian_blur(image[1], 3, 2.0), atol=1e-12)


def test_erase_noise_and_illumination():
    image = numpy.full((3, 5, 6), 0.5)
    erased = F.erase(image, 1, 2, 2, 3, [0.0, 0.25, 1.0])
    assert (erased[:, 1:3, 2:5] == numpy.array([0.0, 0.25, 1.0])[:, None, None]).all()
    erased[:, 1:3, 2:5] = 0.5
    numpy.testing.assert_array_equal(erased, image)

    minicnn.manual_seed(0)
    noisy = F.gaussian_noise(numpy.full((1, 200, 200), 0.5), sigma=0.1)
    assert abs(noisy.std() - 0.1) < 0.005 and 0 <= noisy.min() and noisy.max() <= 1

    lit = F.adjust_illumination(image, angle=0, strength=0.5)
    # brightness 1 - 0.5 at the left column, 1 + 0.5 at the right, the same on every row
    numpy.testing.assert_allclose(lit[:, :, 0], 0.25)
    numpy.testing.assert_allclose(lit[:, :, -1], 0.75)
    numpy.testing.assert_allclose(lit, lit[:, :1].repeat(5, axis=1))
    below = F.adjust_illumination(image, angle=90, strength=0.5)
    numpy.testing.assert_allclose(below[:, -1], 0.75)


# --- bad input ------------------------------------------------------------------------------

def test_functional_forms_name_the_bad_argument():
    image = images(12, (3, 4, 4))
    with pytest.raises(ValueError, match=r"rotate: 'img' must be an image \(C, H, W\) or a batch "
                                         r"\(N, C, H, W\), got shape \(4, 4\)"):
        F.rotate(image[0], 10)
    with pytest.raises(ValueError, match=r"rotate: 'angle' must be a number or one per image, "
                                         r"shape \(2,\), got shape \(3,\)"):
        F.rotate(numpy.stack([image, image]), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="adjust_hue: 'hue_factor' must lie in"):
        F.adjust_hue(image, 0.7)
    with pytest.raises(ValueError, match="adjust_saturation: expected images with 1 or 3 "
                                         "channels, got 2"):
        F.adjust_saturation(image[:2], 0.5)
    with pytest.raises(ValueError, match="gaussian_blur: 'kernel_size' must be odd and positive"):
        F.gaussian_blur(image, 4)
    with pytest.raises(ValueError, match="resize: 'interpolation' must be one of bilinear, "
                                         "nearest, got 'bicubic'"):
        F.resize(image, 8, "bicubic")
    with pytest.raises(ValueError, match=r"elastic: 'displacement' must have shape \(2, 4, 4\)"):
        F.elastic(image, numpy.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match=r"pad: 'padding' must be a non-negative int"):
        F.pad(image, -1)
    with pytest.raises(ValueError, match=r"affine: 'translate' must be of shape \(2,\) or one per "
                                         r"image, shape \(1, 2\), got shape \(3,\)"):
        F.affine(image, 0, (1, 2, 3), 1.0, 0)
