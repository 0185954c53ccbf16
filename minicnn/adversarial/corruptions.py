"""Common corruptions at five severities, after Hendrycks & Dietterich 2019 (ImageNet-C):
not an adversary, just the noise, blur, occlusion and lighting that real images suffer.

    name               parameter at severity 1 .. 5
    gaussian_noise     sigma of N(0, sigma^2) added per pixel     0.1  0.2  0.3  0.4  0.5
    salt_and_pepper    fraction of pixels set to 0 or 1           0.03 0.06 0.09 0.17 0.27
    blur               sigma of a Gaussian blur, in pixels        0.5  0.75 1.0  1.25 1.5
    occlusion          a mid-grey square at a random place,       0.2  0.3  0.4  0.5  0.6
                       its side as a fraction of the image's
    occlusion_gradcam  the same square centred on the peak of the model's Grad-CAM map for
                       the true class: where the model looks (needs model and labels)
    brightness         added to every pixel                       0.1  0.2  0.3  0.4  0.5
    contrast           distance from the mean grey kept           0.75 0.5  0.4  0.3  0.15
    illumination       strength of a light ramp from a random     0.2  0.4  0.6  0.8  1.0
                       side (x (1 + s t), t from -1 to 1)
    object_cutout      a square of the object's own pixels        0.2  0.3  0.4  0.5  0.6
                       replaced by the background, centred on a random pixel of the object

Salt and pepper, brightness and contrast take Hendrycks & Dietterich's values (impulse
noise of ImageNet-C, brightness and contrast of CIFAR-10-C); the others are scaled to
28x28 digits and were fixed before any model was evaluated on them. Images are (N, C, H,
W) arrays in [0, 1] and stay in [0, 1]. Noise, blur, erasing, contrast and illumination
are the functional forms of minicnn.data.transforms (the augmentations); the random
choices come from minicnn's generator, reseeded by `corrupt(..., seed)` and restored after,
so the same seed gives the same corrupted images.
"""
import numpy

from ..backend.random import generator, get_rng_state, manual_seed, set_rng_state
from ..data.transforms import functional as F
from ..explain import GradCAM

LEVELS = {
    "gaussian_noise": (0.1, 0.2, 0.3, 0.4, 0.5),
    "salt_and_pepper": (0.03, 0.06, 0.09, 0.17, 0.27),
    "blur": (0.5, 0.75, 1.0, 1.25, 1.5),
    "occlusion": (0.2, 0.3, 0.4, 0.5, 0.6),
    "occlusion_gradcam": (0.2, 0.3, 0.4, 0.5, 0.6),
    "brightness": (0.1, 0.2, 0.3, 0.4, 0.5),
    "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),
    "illumination": (0.2, 0.4, 0.6, 0.8, 1.0),
    "object_cutout": (0.2, 0.3, 0.4, 0.5, 0.6),
}
SEVERITIES = (1, 2, 3, 4, 5)


def corrupt(images, name, severity, seed=0, model=None, labels=None):
    """`images` (N, C, H, W) in [0, 1] with corruption `name` at `severity` (1 to 5), as a
    new float array; occlusion_gradcam also needs the model and the true labels."""
    images = _checked(images, name, severity)
    level = LEVELS[name][severity - 1]
    if name == "occlusion_gradcam" and model is None:
        raise ValueError("corrupt: occlusion_gradcam puts the square where the model looks, so "
                         "it needs model= and labels=")
    state = get_rng_state()
    try:
        manual_seed(seed)
        if name == "occlusion_gradcam":
            return occlude(images, level, gradcam_peaks(model, images, labels))
        return _CORRUPTIONS[name](images, level)
    finally:
        set_rng_state(state)


def gaussian_noise(images, sigma):
    return F.gaussian_noise(images, 0.0, sigma)


def salt_and_pepper(images, fraction):
    """A random `fraction` of the pixels (all channels of each) becomes 0 or 1, evenly."""
    count, _, height, width = images.shape
    hit = generator().random((count, 1, height, width)) < fraction
    salt = generator().random((count, 1, height, width)) < 0.5
    return numpy.where(hit, salt.astype(images.dtype), images)


def blur(images, sigma):
    """Gaussian blur, the kernel 2 ceil(3 sigma) + 1 taps wide (three sigmas each side)."""
    size = 2 * int(numpy.ceil(3 * sigma)) + 1
    return F.gaussian_blur(images, size, sigma)


def brightness(images, shift):
    return numpy.clip(images + shift, 0, 1).astype(images.dtype)


def contrast(images, factor):
    return F.adjust_contrast(images, factor)


def illumination(images, strength):
    return F.adjust_illumination(images, generator().uniform(0, 360, len(images)), strength)


def occlude(images, fraction, centres=None):
    """A mid-grey square of side `fraction` of the image's, centred on `centres` ((N, 2) rows
    and columns) or placed uniformly at random inside the image."""
    side = _side(images, fraction)
    tops, lefts = _corners(images, side, centres)
    return F.erase(images, tops, lefts, side, side, 0.5)


def object_cutout(images, fraction):
    """A square of the object, centred on a random pixel of it, filled with the background
    (the median of the border pixels of each image and channel). The object's pixels are
    those at least half as far from the background as the farthest one."""
    count, channels, height, width = images.shape
    border = numpy.concatenate([images[:, :, 0], images[:, :, -1], images[:, :, :, 0],
                                images[:, :, :, -1]], axis=2)
    background = numpy.median(border, axis=2)[:, :, None, None].astype(images.dtype)
    distance = numpy.abs(images - background).max(axis=1).reshape(count, -1)
    on_object = distance >= 0.5 * distance.max(axis=1, keepdims=True)
    # One random pixel of each object: the largest of a random key among the object's pixels.
    chosen = numpy.argmax(numpy.where(on_object, generator().random(on_object.shape), -1), axis=1)
    centres = numpy.stack(numpy.unravel_index(chosen, (height, width)), axis=1)
    side = _side(images, fraction)
    tops, lefts = _corners(images, side, centres)
    return F.erase(images, tops, lefts, side, side,
                   numpy.broadcast_to(background, images.shape))


def gradcam_peaks(model, images, labels):
    """(N, 2) row and column of the largest value of each image's Grad-CAM map (true class)."""
    maps = GradCAM(model)(images, labels).numpy()[:, 0]
    flat = maps.reshape(len(maps), -1).argmax(axis=1)
    return numpy.stack(numpy.unravel_index(flat, maps.shape[1:]), axis=1)


def _side(images, fraction):
    return max(1, int(round(fraction * min(images.shape[2:]))))


def _corners(images, side, centres):
    """Top-left corners (tops, lefts) of side x side squares inside the images: centred on
    `centres` as far as the border allows, or uniformly random."""
    count, _, height, width = images.shape
    if centres is None:
        return (generator().integers(0, height - side + 1, count),
                generator().integers(0, width - side + 1, count))
    centres = numpy.asarray(centres)
    return (numpy.clip(centres[:, 0] - side // 2, 0, height - side),
            numpy.clip(centres[:, 1] - side // 2, 0, width - side))


_CORRUPTIONS = {"gaussian_noise": gaussian_noise, "salt_and_pepper": salt_and_pepper,
                "blur": blur, "occlusion": occlude, "brightness": brightness,
                "contrast": contrast, "illumination": illumination,
                "object_cutout": object_cutout}


def _checked(images, name, severity):
    if name not in LEVELS:
        raise ValueError(f"corrupt: unknown corruption {name!r}; choose from "
                         f"{', '.join(LEVELS)}")
    if severity not in SEVERITIES:
        raise ValueError(f"corrupt: severity must be 1, 2, 3, 4 or 5, got {severity!r}")
    images = numpy.asarray(images)
    if images.ndim != 4 or images.dtype.kind != "f":
        raise ValueError(f"corrupt: images must be a float batch (N, C, H, W), got "
                         f"{images.dtype} of shape {images.shape}")
    if images.size and (images.min() < 0 or images.max() > 1):
        raise ValueError(f"corrupt: images must lie in [0, 1], got values from "
                         f"{images.min():.3g} to {images.max():.3g}")
    return images
