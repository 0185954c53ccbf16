"""The functional forms of the transforms: each does one deterministic thing, usable alone.

    hflip vflip crop center_crop pad resize resized_crop rotate affine elastic
    adjust_brightness adjust_contrast adjust_saturation adjust_hue rgb_to_grayscale
    gaussian_blur gaussian_noise erase adjust_illumination

`img` is one image (C, H, W) or a batch (N, C, H, W) of floats in [0, 1]. Parameters are
one number for every image, or one per image (an array of N): the random classes draw
them per image and call these. Geometric functions also take `target=` (a dict, or a list
of N dicts for a batch; see the package docstring) and then return (img, target), with
boxes and masks moved exactly as the pixels are. Photometric ones change pixel values only.

Geometry: pixel (i, j) has its centre at column x = j, row y = i; boxes use edges, so the
same pixel covers x0 = j to x1 = j + 1. Non-integer maps go through `sampling.sample`:
bilinear for images, nearest for masks, and points outside the image read `fill` (SciPy's
mode='constant'); resizing reads the nearest edge instead (mode='nearest').
"""
import numbers

import numpy

from ...backend.random import generator
from .base import as_batch, check_size, per_image, with_targets
from .sampling import INTERPOLATIONS, affine_points, sample
from .targets import boxes_by_matrix, boxes_by_sample_points, move_target

__all__ = ["hflip", "vflip", "crop", "center_crop", "pad", "resize", "resized_crop", "rotate",
           "affine", "elastic", "adjust_brightness", "adjust_contrast",
           "adjust_saturation", "adjust_hue", "rgb_to_grayscale", "gaussian_blur",
           "gaussian_noise", "erase", "adjust_illumination"]


# --- moving targets with the pixels ----------------------------------------------------------

def _with_moved_targets(out, targets, move_boxes, move_masks):
    """(out, targets moved): `move_boxes(boxes, n)` and `move_masks(masks, n)` move image n's."""
    if targets is None:
        return out, None
    height, width = out.shape[-2:]
    return out, [move_target(target, lambda boxes, n=n: move_boxes(boxes, n),
                             lambda masks, n=n: move_masks(masks, n), height, width)
                 for n, target in enumerate(targets)]


def _resample(op, batch, targets, rows, cols, interpolation, fill, outside, move_boxes):
    """Images read at (rows, cols) (broadcastable to (N, H', W')) by `interpolation`, masks
    at the same points by nearest neighbour, boxes by `move_boxes(boxes, n)`."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{op}: 'interpolation' must be one of {', '.join(INTERPOLATIONS)}, got "
                         f"{interpolation!r}")
    out = sample(batch, rows, cols, interpolation, outside, fill)
    shape = (len(batch),) + out.shape[-2:]
    rows, cols = numpy.broadcast_to(rows, shape), numpy.broadcast_to(cols, shape)

    def move_masks(masks, n):
        stack = masks.reshape((1, -1) + masks.shape[-2:])
        moved = sample(stack, rows[n][None], cols[n][None], "nearest", outside, 0)
        return moved.reshape(masks.shape[:-2] + moved.shape[-2:])
    return _with_moved_targets(out, targets, move_boxes, move_masks)


def _translation(dx, dy):
    """(N, 3, 3) maps (x, y) -> (x + dx, y + dy), one per image."""
    matrices = numpy.zeros(numpy.shape(dx) + (3, 3))
    matrices[:] = numpy.eye(3)
    matrices[..., 0, 2], matrices[..., 1, 2] = dx, dy
    return matrices


# --- flips, crops, padding --------------------------------------------------------------------

def hflip(img, target=None):
    """Mirror left-right: output column j is input column W - 1 - j; a box's x0, x1 become
    W - x1, W - x0. Exact."""
    def apply(batch, targets):
        width = batch.shape[-1]
        mirror = numpy.array([[-1.0, 0, width], [0, 1, 0], [0, 0, 1]])
        return _with_moved_targets(batch[..., ::-1].copy(), targets,
                                   lambda boxes, n: boxes_by_matrix(boxes, mirror),
                                   lambda masks, n: masks[..., ::-1].copy())
    return with_targets("hflip", img, target, apply)


def vflip(img, target=None):
    """Mirror top-bottom: output row i is input row H - 1 - i; y0, y1 become H - y1, H - y0."""
    def apply(batch, targets):
        height = batch.shape[-2]
        mirror = numpy.array([[1.0, 0, 0], [0, -1, height], [0, 0, 1]])
        return _with_moved_targets(batch[..., ::-1, :].copy(), targets,
                                   lambda boxes, n: boxes_by_matrix(boxes, mirror),
                                   lambda masks, n: masks[..., ::-1, :].copy())
    return with_targets("vflip", img, target, apply)


def crop(img, top, left, height, width, target=None):
    """The height x width window whose top-left pixel is (top, left) (integers, one pair per
    image if arrays). Window pixels outside the image are 0, as torchvision pads. Boxes
    shift by (-left, -top) and are clipped to the window."""
    def apply(batch, targets):
        count = len(batch)
        tops, lefts = (numpy.round(per_image("crop", name, value, count)) for name, value in
                       (("top", top), ("left", left)))
        rows = tops[:, None, None] + numpy.arange(height)[None, :, None]
        cols = lefts[:, None, None] + numpy.arange(width)[None, None, :]
        shift = _translation(-lefts, -tops)
        return _resample("crop", batch, targets, rows, cols, "nearest", 0, "zeros",
                         lambda boxes, n: boxes_by_matrix(boxes, shift[n]))
    check_size("crop", (height, width))
    return with_targets("crop", img, target, apply)


def center_crop(img, output_size, target=None):
    """The central window of `output_size` (int or (h, w)), placed as torchvision places it:
    top = round((H - h) / 2) (Python's round); a window larger than the image takes
    (h - H) // 2 rows of zero padding above it."""
    out_height, out_width = check_size("center_crop", output_size)
    height, width = as_batch("center_crop", img)[0].shape[-2:]

    def start(size, out_size):
        return -((out_size - size) // 2) if out_size > size else int(round((size - out_size) / 2.0))
    return crop(img, start(height, out_height), start(width, out_width), out_height, out_width,
                target=target)


def pad(img, padding, fill=0, padding_mode="constant", target=None):
    """Add `padding` pixels around the image: an int for all sides, (left/right, top/bottom)
    or (left, top, right, bottom), as torchvision. padding_mode: 'constant' (with `fill`),
    'edge', 'reflect' (without repeating the edge) or 'symmetric' (repeating it), NumPy's
    names for the same modes. Masks are padded the same way (0 for 'constant'), so that a
    mirrored pixel keeps the label of what it shows; boxes only shift, and do not cover
    the mirrored copies."""
    modes = ("constant", "edge", "reflect", "symmetric")
    if padding_mode not in modes:
        raise ValueError(f"pad: padding_mode must be one of {', '.join(modes)}, got "
                         f"{padding_mode!r}")
    left, top, right, bottom = _padding("pad", padding)

    def apply(batch, targets):
        def pad_array(array, value):
            widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
            options = {"constant_values": value} if padding_mode == "constant" else {}
            return numpy.pad(array, widths, mode=padding_mode, **options)
        shift = _translation(left, top)
        return _with_moved_targets(pad_array(batch, fill), targets,
                                   lambda boxes, n: boxes_by_matrix(boxes, shift),
                                   lambda masks, n: pad_array(masks, 0))
    return with_targets("pad", img, target, apply)


def _padding(op, padding):
    sides = (padding,) * 4 if isinstance(padding, numbers.Integral) else tuple(padding)
    if len(sides) == 2:
        sides = sides * 2
    if len(sides) != 4 or not all(isinstance(s, numbers.Integral) and s >= 0 for s in sides):
        raise ValueError(f"{op}: 'padding' must be a non-negative int, (left/right, top/bottom) "
                         f"or (left, top, right, bottom), got {padding!r}")
    return sides


# --- resizing ---------------------------------------------------------------------------------

def resize(img, size, interpolation="bilinear", target=None):
    """Resample to `size`: (h, w), or an int for the shorter side (the longer one keeps the
    aspect ratio, int(size * long / short), as torchvision).

    Output pixel (i, j) reads input point ((i + 1/2) H / h - 1/2, (j + 1/2) W / w - 1/2),
    moved onto the image where it falls outside: scipy.ndimage.zoom(channel, (h / H, w / W),
    order=1 (or 0 for 'nearest'), mode='nearest', grid_mode=True), and PyTorch's
    interpolate(align_corners=False). No antialiasing: shrinking by more than 2 skips pixels.
    Boxes scale by (w / W, h / H).
    """
    def apply(batch, targets):
        height, width = batch.shape[-2:]
        if isinstance(size, numbers.Integral):
            out_height, out_width = _shorter_side(size, height, width)
        else:
            out_height, out_width = check_size("resize", size)
        # The same expressions as SciPy's zoom, so that nearest-neighbour ties round alike.
        rows = (numpy.arange(out_height) + 0.5) * (height / out_height) - 0.5
        cols = (numpy.arange(out_width) + 0.5) * (width / out_width) - 0.5
        scale = numpy.diag([out_width / width, out_height / height, 1.0])
        return _resample("resize", batch, targets, rows[None, :, None], cols[None, None, :],
                         interpolation, 0, "edge", lambda boxes, n: boxes_by_matrix(boxes, scale))
    return with_targets("resize", img, target, apply)


def _shorter_side(size, height, width):
    check_size("resize", size)
    if height <= width:
        return size, int(size * width / height)
    return int(size * height / width), size


def resized_crop(img, top, left, height, width, size, interpolation="bilinear", target=None):
    """crop(img, top, left, height, width) resized to `size`, in one gather; top, left,
    height and width may differ per image (RandomResizedCrop draws them so). Equals
    resize(crop(...)) for windows inside the image; points outside the image read 0."""
    out_height, out_width = check_size("resized_crop", size)

    def apply(batch, targets):
        count = len(batch)
        tops, lefts, heights, widths = (per_image("resized_crop", name, value, count)[:, None]
                                        for name, value in (("top", top), ("left", left),
                                                            ("height", height), ("width", width)))
        if (heights <= 0).any() or (widths <= 0).any():
            raise ValueError("resized_crop: window height and width must be positive")
        within_rows = (numpy.arange(out_height) + 0.5) * (heights / out_height) - 0.5
        within_cols = (numpy.arange(out_width) + 0.5) * (widths / out_width) - 0.5
        rows = tops + numpy.clip(within_rows, 0, heights - 1)
        cols = lefts + numpy.clip(within_cols, 0, widths - 1)
        maps = _translation(-lefts[:, 0], -tops[:, 0])
        maps[:, 0] *= (out_width / widths)
        maps[:, 1] *= (out_height / heights)
        return _resample("resized_crop", batch, targets, rows[:, :, None], cols[:, None, :],
                         interpolation, 0, "zeros",
                         lambda boxes, n: boxes_by_matrix(boxes, maps[n]))
    return with_targets("resized_crop", img, target, apply)


# --- rotations and affine maps ------------------------------------------------------------

def rotate(img, angle, interpolation="bilinear", fill=0, target=None):
    """Turn counter-clockwise by `angle` degrees about the centre ((W - 1) / 2, (H - 1) / 2),
    keeping the size; points from outside the image are `fill`.

    Equals scipy.ndimage.rotate(channel, angle, reshape=False, order=1, mode='constant',
    cval=fill) channel by channel, and torchvision's rotate. Quarter turns are exact
    (cos and sin of multiples of 90 degrees are taken as 0 and +-1). It is affine(img,
    -angle): torchvision's affine turns clockwise.
    """
    return _affine("rotate", img, target, angle=numpy.negative(angle), translate=(0, 0),
                   scale=1.0, shear=(0, 0), interpolation=interpolation, fill=fill)


def affine(img, angle, translate, scale, shear, interpolation="bilinear", fill=0, target=None):
    """torchvision's affine: about the centre c = ((W - 1) / 2, (H - 1) / 2), rotate by
    `angle` degrees clockwise, scale by `scale`, shear by `shear` = (sx, sy) degrees (a
    number: sx), then translate by `translate` = (dx, dy) pixels. Per image: angle and
    scale (N,), translate and shear (N, 2).

        p' = R(angle) S(scale) SHy(sy) SHx(sx) (p - c) + c + translate   (see _affine_linear)

    Output pixel p' reads input point p, bilinear; points outside are `fill`. Equals
    scipy.ndimage.affine_transform(channel, inverse, order=1, mode='constant', cval=fill)
    with the inverse map written in (row, column) order.
    """
    return _affine("affine", img, target, angle=angle, translate=translate, scale=scale,
                   shear=shear, interpolation=interpolation, fill=fill)


def _affine(op, img, target, angle, translate, scale, shear, interpolation, fill):
    def apply(batch, targets):
        count, _, height, width = batch.shape
        shears = numpy.asarray(shear, dtype=numpy.float64)
        shears = numpy.array([shears, 0.0]) if shears.ndim == 0 else shears
        linear = _affine_linear(per_image(op, "angle", angle, count),
                                per_image(op, "scale", scale, count),
                                per_image(op, "shear", shears, count, (2,)))
        shifts = per_image(op, "translate", translate, count, (2,))
        centre = numpy.array([(width - 1) / 2, (height - 1) / 2])
        rows, cols = affine_points(_invert(linear), centre, shifts, height, width)
        # Boxes move in edge coordinates, half a pixel from the centres (x_edge = x + 1/2),
        # by p' = L (p - c) + c + shift with the centre c at ((W - 1) / 2 + 1/2, ...).
        forward = numpy.zeros((count, 3, 3))
        forward[:, :2, :2], forward[:, 2, 2] = linear, 1
        forward[:, :2, 2] = centre + 0.5 + shifts - linear @ (centre + 0.5)
        return _resample(op, batch, targets, rows, cols, interpolation, fill, "zeros",
                         lambda boxes, n: boxes_by_matrix(boxes, forward[n]))
    if numpy.any(numpy.asarray(scale) <= 0):
        raise ValueError(f"{op}: 'scale' must be positive, got {scale}")
    return with_targets(op, img, target, apply)


def _affine_linear(angle, scale, shear):
    """The linear parts (N, 2, 2) of torchvision's affine maps, acting on (x, y), from its
    _get_inverse_affine_matrix: with a = angle, sx, sy = shear (degrees),

        R S SHy SHx = scale [[cos(a - sy) / cos(sy),  -cos(a - sy) tan(sx) / cos(sy) - sin(a)],
                             [sin(a - sy) / cos(sy),  -sin(a - sy) tan(sx) / cos(sy) + cos(a)]]

    which, with y pointing down, turns clockwise. angle, scale (N,); shear (N, 2).
    """
    cos_a, sin_a = _cos_sin(angle)
    cos_a_sy, sin_a_sy = _cos_sin(angle - shear[:, 1])
    cos_sy, _ = _cos_sin(shear[:, 1])
    cos_sx, sin_sx = _cos_sin(shear[:, 0])
    tan_sx = sin_sx / cos_sx
    linear = numpy.empty((len(angle), 2, 2))
    linear[:, 0, 0] = cos_a_sy / cos_sy
    linear[:, 0, 1] = -cos_a_sy * tan_sx / cos_sy - sin_a
    linear[:, 1, 0] = sin_a_sy / cos_sy
    linear[:, 1, 1] = -sin_a_sy * tan_sx / cos_sy + cos_a
    return linear * scale[:, None, None]


def _cos_sin(degrees):
    """cos and sin of angles in degrees, exactly 0 and +-1 at multiples of 90 (as SciPy's
    cosdg and sindg), so that quarter turns move pixels onto pixels exactly."""
    quarters = numpy.round(degrees / 90)
    exact = quarters * 90 == degrees
    turn = quarters.astype(numpy.int64) % 4
    radians = numpy.deg2rad(degrees)
    return (numpy.where(exact, numpy.array([1.0, 0, -1, 0])[turn], numpy.cos(radians)),
            numpy.where(exact, numpy.array([0.0, 1, 0, -1])[turn], numpy.sin(radians)))


def _invert(linear):
    """Inverses of 2 x 2 matrices (N, 2, 2) by their adjugate over the determinant, which
    is exact for quarter turns."""
    (a, b), (c, d) = linear[:, 0].T, linear[:, 1].T
    determinant = a * d - b * c
    adjugate = numpy.stack([numpy.stack([d, -b], 1), numpy.stack([-c, a], 1)], 1)
    return adjugate / determinant[:, None, None]


def elastic(img, displacement, interpolation="bilinear", fill=0, target=None):
    """Output pixel (i, j) reads input point (i + dy[i, j], j + dx[i, j]), with
    displacement = (dx, dy) of shape (2, H, W), or (N, 2, H, W) one field per image, in
    pixels (torchvision's elastic takes it in grid units, (H, W, 2); ElasticTransform
    converts). Masks move by nearest neighbour; a box becomes the box of the output
    pixels whose points fall inside it (the map is known only backwards).
    """
    def apply(batch, targets):
        count, _, height, width = batch.shape
        field = numpy.asarray(displacement, dtype=numpy.float64)
        if field.shape not in ((2, height, width), (count, 2, height, width)):
            raise ValueError(f"elastic: 'displacement' must have shape (2, {height}, {width}) "
                             f"or ({count}, 2, {height}, {width}), got {field.shape}")
        field = numpy.broadcast_to(field, (count, 2, height, width))
        rows = numpy.arange(height)[:, None] + field[:, 1]
        cols = numpy.arange(width)[None, :] + field[:, 0]
        return _resample("elastic", batch, targets, rows, cols, interpolation, fill, "zeros",
                         lambda boxes, n: boxes_by_sample_points(boxes, rows[n], cols[n]))
    return with_targets("elastic", img, target, apply)


# --- colour ----------------------------------------------------------------------------------
# As torchvision's tensor functions on float images: blend with another image, clamp to [0, 1].

def _factors(op, name, value, batch, low=0.0, high=numpy.inf):
    """A factor per image, shaped (N, 1, 1, 1) to broadcast over the batch."""
    factors = per_image(op, name, value, len(batch))
    if ((factors < low) | (factors > high)).any():
        raise ValueError(f"{op}: '{name}' must lie in [{low}, {high}], got {value}")
    return factors.reshape(-1, 1, 1, 1).astype(batch.dtype)


def _blend(batch, other, ratio):
    """ratio * batch + (1 - ratio) * other, clamped to [0, 1]."""
    return numpy.clip(ratio * batch + (1 - ratio) * other, 0, 1).astype(batch.dtype, copy=False)


def _photometric(op, img, change):
    batch, _, restore = as_batch(op, img)
    return restore(change(batch))


def adjust_brightness(img, brightness_factor):
    """Blend with black: x * factor, clamped; factor 0 gives black, 1 the image."""
    op = "adjust_brightness"
    return _photometric(op, img, lambda batch: _blend(
        batch, 0, _factors(op, "brightness_factor", brightness_factor, batch)))


def adjust_contrast(img, contrast_factor):
    """Blend with the mean gray level of each image (of its grayscale version)."""
    op = "adjust_contrast"

    def change(batch):
        mean = _grayscale(op, batch).mean(axis=(1, 2, 3), keepdims=True)
        return _blend(batch, mean, _factors(op, "contrast_factor", contrast_factor, batch))
    return _photometric(op, img, change)


def adjust_saturation(img, saturation_factor):
    """Blend with the grayscale image, pixel by pixel; 0 gives gray, 2 doubles the colour.
    One-channel images are returned unchanged, as torchvision does."""
    op = "adjust_saturation"

    def change(batch):
        factors = _factors(op, "saturation_factor", saturation_factor, batch)
        if batch.shape[1] == 1:
            return batch.copy()
        return _blend(batch, _grayscale(op, batch), factors)
    return _photometric(op, img, change)


def adjust_hue(img, hue_factor):
    """Shift the hue by `hue_factor` turns of the colour wheel, in [-0.5, 0.5]: to HSV,
    h = (h + factor) mod 1, back to RGB (torchvision's _rgb2hsv / _hsv2rgb, which agree
    with Python's colorsys). One-channel images are returned unchanged."""
    op = "adjust_hue"

    def change(batch):
        factors = _factors(op, "hue_factor", hue_factor, batch, -0.5, 0.5)
        if batch.shape[1] == 1:
            return batch.copy()
        _grayscale(op, batch)       # checks for 3 channels
        hue, saturation, value = _rgb_to_hsv(batch)
        return _hsv_to_rgb((hue + factors[:, 0]) % 1.0, saturation, value).astype(batch.dtype)
    return _photometric(op, img, change)


def _rgb_to_hsv(batch):
    """(hue in [0, 1), saturation, value), each (N, H, W), of RGB images (N, 3, H, W)."""
    red, green, blue = batch[:, 0], batch[:, 1], batch[:, 2]
    value, low = batch.max(axis=1), batch.min(axis=1)
    spread = value - low
    gray = spread == 0
    saturation = spread / numpy.where(gray, 1, value)
    spread = numpy.where(gray, 1, spread)
    # Distance of each channel from the largest, in units of the spread: the hue is the
    # position on the hexagon red (0) -> green (2) -> blue (4) -> red (6), divided by 6.
    r, g, b = ((value - channel) / spread for channel in (red, green, blue))
    hue = numpy.where(value == red, b - g, numpy.where(value == green, 2.0 + r - b, 4.0 + g - r))
    return (hue / 6.0 + 1.0) % 1.0, saturation, value


def _hsv_to_rgb(hue, saturation, value):
    """RGB images (N, 3, H, W) of (hue, saturation, value) maps (N, H, W), by the closed
    form f(n) = v - v s clip(min(k, 4 - k), 0, 1) with k = (n + 6 hue) mod 6, and
    (R, G, B) = (f(5), f(3), f(1)): the same values as the six-sector table that
    torchvision's _hsv2rgb and colorsys use, in three passes instead of six."""
    channels = []
    for n in (5, 3, 1):
        k = (n + hue * 6) % 6
        channels.append(value - value * saturation * numpy.clip(numpy.minimum(k, 4 - k), 0, 1))
    return numpy.stack(channels, axis=1)


def rgb_to_grayscale(img, num_output_channels=1):
    """0.2989 R + 0.587 G + 0.114 B (ITU-R 601, torchvision's weights), repeated to
    `num_output_channels` (1 or 3); a one-channel image is its own gray."""
    op = "rgb_to_grayscale"
    if num_output_channels not in (1, 3):
        raise ValueError(f"{op}: num_output_channels must be 1 or 3, got {num_output_channels}")
    return _photometric(op, img, lambda batch: numpy.repeat(_grayscale(op, batch),
                                                            num_output_channels, axis=1))


def _grayscale(op, batch):
    channels = batch.shape[1]
    if channels == 1:
        return batch.copy()
    if channels != 3:
        raise ValueError(f"{op}: expected images with 1 or 3 channels, got {channels} "
                         f"(batch of shape {batch.shape})")
    weights = numpy.array([0.2989, 0.587, 0.114], dtype=batch.dtype).reshape(1, 3, 1, 1)
    return (batch * weights).sum(axis=1, keepdims=True)


# --- blur, noise, occlusion, illumination ---------------------------------------------------

def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel of `kernel_size` (odd int or (kx, ky)) and `sigma` (a
    number, (sx, sy), or (N, 2) one pair per image), torchvision's kernel: taps at
    -(k-1)/2 ... (k-1)/2, weights exp(-t^2 / (2 sigma^2)) normalised to sum 1, and
    sigma = 0.3 ((k - 1) / 2 - 1) + 0.8 when not given. Edges reflect (without repeating
    the edge pixel): scipy.ndimage.correlate1d(mode='mirror') along columns, then rows.
    """
    op = "gaussian_blur"
    size_x, size_y = (kernel_size, kernel_size) if isinstance(kernel_size, numbers.Integral) \
        else tuple(kernel_size)
    if not all(isinstance(k, numbers.Integral) and k > 0 and k % 2 for k in (size_x, size_y)):
        raise ValueError(f"{op}: 'kernel_size' must be odd and positive, got {kernel_size}")

    def change(batch):
        if sigma is None:
            given = [0.3 * ((k - 1) * 0.5 - 1) + 0.8 for k in (size_x, size_y)]
        else:
            given = numpy.asarray(sigma, dtype=numpy.float64)
            given = numpy.array([given, given]) if given.ndim == 0 else given
        sigmas = per_image(op, "sigma", given, len(batch), (2,))
        if (sigmas <= 0).any():
            raise ValueError(f"{op}: 'sigma' must be positive, got {sigma}")
        blurred = _correlate(batch, _gaussian_kernels(size_x, sigmas[:, 0]), axis=3)
        return _correlate(blurred, _gaussian_kernels(size_y, sigmas[:, 1]), axis=2)
    return _photometric(op, img, change)


def _gaussian_kernels(size, sigmas):
    """(N, size) normalised Gaussian weights, one row per sigma."""
    taps = numpy.linspace(-(size - 1) * 0.5, (size - 1) * 0.5, size)
    weights = numpy.exp(-0.5 * (taps[None, :] / sigmas[:, None]) ** 2)
    return weights / weights.sum(axis=1, keepdims=True)


def _correlate(batch, kernels, axis):
    """sum_t kernels[n, t] x[n, ..., i + t - k // 2, ...] along `axis`, edges reflected:
    one multiply-add over the whole batch per tap."""
    half = kernels.shape[1] // 2
    widths = [(0, 0)] * batch.ndim
    widths[axis] = (half, half)
    padded = numpy.pad(batch, widths, mode="reflect")
    length = batch.shape[axis]
    out = numpy.zeros_like(batch)
    for tap in range(kernels.shape[1]):
        window = numpy.take(padded, numpy.arange(tap, tap + length), axis=axis)
        out += kernels[:, tap].reshape(-1, 1, 1, 1).astype(batch.dtype) * window
    return out


def gaussian_noise(img, mean=0.0, sigma=0.1, clip=True):
    """x + N(mean, sigma^2) per pixel, drawn from minicnn's generator, clamped to [0, 1] if
    `clip` (torchvision.transforms.v2.functional.gaussian_noise)."""
    op = "gaussian_noise"

    def change(batch):
        sigmas = _factors(op, "sigma", sigma, batch)
        noise = generator().standard_normal(batch.shape).astype(batch.dtype)
        out = batch + noise * sigmas + _factors(op, "mean", mean, batch, -numpy.inf)
        return numpy.clip(out, 0, 1) if clip else out
    return _photometric(op, img, change)


def erase(img, i, j, h, w, v):
    """Replace the h x w window whose top-left pixel is (i, j) by `v`: a number, one value
    per channel, or an array shaped like img (values to take from, e.g. noise). i, j, h, w
    may differ per image; an image with h = 0 or w = 0 is left as it is (torchvision's
    erase, without inplace)."""
    op = "erase"

    def change(batch):
        count, channels, height, width = batch.shape
        top, left, rows, cols = (per_image(op, name, value, count).reshape(-1, 1, 1, 1)
                                 for name, value in (("i", i), ("j", j), ("h", h), ("w", w)))
        row, col = numpy.arange(height)[:, None], numpy.arange(width)
        inside = (row >= top) & (row < top + rows) & (col >= left) & (col < left + cols)
        values = numpy.asarray(v, dtype=batch.dtype)
        if values.ndim == 1:
            if len(values) not in (1, channels):
                raise ValueError(f"{op}: 'v' must hold 1 or {channels} values (one per "
                                 f"channel), got {len(values)}")
            values = values.reshape(-1, 1, 1)
        elif values.ndim > 1 and values.shape != batch.shape[4 - values.ndim:]:
            raise ValueError(f"{op}: 'v' of shape {values.shape} does not match the images "
                             f"{batch.shape}")
        return numpy.where(inside, values, batch)
    return _photometric(op, img, change)


def adjust_illumination(img, angle, strength):
    """Light falling from one side: multiply by the ramp 1 + strength * t, clamped to
    [0, 1], where t runs from -1 to 1 across the image along the direction `angle` (degrees,
    0 = brighter to the right, 90 = brighter downwards), through the centre."""
    op = "adjust_illumination"

    def change(batch):
        count, _, height, width = batch.shape
        cos, sin = _cos_sin(per_image(op, "angle", angle, count))
        strengths = _factors(op, "strength", strength, batch)
        x = numpy.arange(width) - (width - 1) / 2
        y = numpy.arange(height)[:, None] - (height - 1) / 2
        reach = numpy.abs(cos) * (width - 1) / 2 + numpy.abs(sin) * (height - 1) / 2
        along = ((cos[:, None, None] * x + sin[:, None, None] * y)
                 / numpy.maximum(reach, 1e-12)[:, None, None])
        return numpy.clip(batch * (1 + strengths * along[:, None].astype(batch.dtype)), 0, 1)
    return _photometric(op, img, change)
