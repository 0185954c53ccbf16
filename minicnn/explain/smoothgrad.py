"""SmoothGrad (Smilkov et al. 2017): average an attribution over copies of the input with
Gaussian noise added, which removes much of the speckle of raw gradients. It wraps any
method, as Captum's NoiseTunnel does:

    SmoothGrad(Saliency(model))(images, target, samples=25, stdev=0.15)

    smoothgrad     mean_s A(x + e_s)              e_s ~ N(0, stdev^2), one per sample
    smoothgrad_sq  mean_s A(x + e_s)^2
    vargrad        mean_s A(x + e_s)^2 - (mean_s A(x + e_s))^2    (Adebayo et al. 2018)

`stdev` is absolute (as Captum's stdevs), not a fraction of the pixel range: for images in
[0, 1] the paper's 10-20% noise level is stdev 0.1-0.2. The noise comes from minicnn's
generator (minicnn.manual_seed), or is given as `noise`, an array (N, samples, C, H, W).
"""
from ..autograd import Tensor, no_grad
from ..backend import array_module, device_of, move_array, to_numpy
from ..backend.random import generator
from ..nn import frozen_eval
from .attribution import Attribution
from .checks import check_images, check_number, check_targets

KINDS = ("smoothgrad", "smoothgrad_sq", "vargrad")


class SmoothGrad:
    """Wraps an attribution method; calling it takes the method's own options too."""

    def __init__(self, method):
        if not isinstance(method, Attribution):
            raise TypeError(f"SmoothGrad: wraps an attribution method such as "
                            f"Saliency(model), got {type(method).__name__}")
        self.method = method

    def __call__(self, inputs, target=None, samples=25, stdev=0.15, kind="smoothgrad",
                 noise=None, **options):
        inputs = check_images("SmoothGrad", inputs)
        check_number("SmoothGrad", "samples", samples, low=1, integer=True)
        check_number("SmoothGrad", "stdev", stdev, low=0)
        if kind not in KINDS:
            raise ValueError(f"SmoothGrad: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        x = inputs.data
        xp = array_module(x)
        noise = self._noise(x, samples, stdev, noise)
        total = total_of_squares = 0
        with frozen_eval(self.method.model, "SmoothGrad"):
            # Every sample explains the class of the clean image, not of its noisy copy.
            with no_grad():
                targets = check_targets("SmoothGrad", target, self.method.model(inputs))
            for sample in range(samples):
                attribution = self.method(Tensor(x + noise[:, sample]), targets, **options).data
                total = total + attribution
                total_of_squares = total_of_squares + attribution * attribution
        mean, mean_of_squares = total / samples, total_of_squares / samples
        result = {"smoothgrad": mean, "smoothgrad_sq": mean_of_squares,
                  "vargrad": mean_of_squares - mean * mean}[kind]
        return Tensor(xp.asarray(result, dtype=x.dtype))

    @staticmethod
    def _noise(x, samples, stdev, noise):
        shape = (len(x), samples) + x.shape[1:]
        if noise is None:
            noise = stdev * generator().standard_normal(shape)
        elif tuple(getattr(noise, "shape", ())) != shape:
            raise ValueError(f"SmoothGrad: noise must have shape (N, samples, C, H, W) = "
                             f"{shape}, got {getattr(noise, 'shape', type(noise).__name__)}")
        noise = to_numpy(noise.data if isinstance(noise, Tensor) else noise)
        return move_array(noise.astype(x.dtype, copy=False), device_of(x))
