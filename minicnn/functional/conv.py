"""Convolutions: conv1d, conv2d, conv_transpose2d, as three mutually adjoint Functions.

A convolution layer (a cross-correlation, as in PyTorch) is bilinear in input and weight,
and all its derivatives are again correlations with the same index geometry
(minicnn/cpu_kernels/conv_geometry.py):

    Conv:            y  = x (*) w                       (N, C, H, W) -> (N, O, out_h, out_w)
    ConvTranspose:   x' = the adjoint of (*) w applied to y'   (N, O, out_h, out_w) -> (N, C, H, W)
    ConvWeightGrad:  gw = the correlation of x with gy  (the weight's gradient)

Each Function's backward is built from the other two, so gradients of gradients (and
gradgradcheck) work: d(Conv)/dx = ConvTranspose(gy, w), d(Conv)/dw = ConvWeightGrad(x, gy),
d(ConvTranspose)/dy' = Conv(gy, w), and so on round the triangle. conv1d is conv2d on
inputs of height 1. The arrays are computed by one of three kernels (set_conv_algorithm):
'im2col' (stride tricks + one GEMM per group), 'numba' (im2col and col2im in Numba a block
of samples at a time, the batch split across threads) or 'winograd' (Winograd's F(4x4, 3x3)
minimal filtering, 36 products per 16 outputs instead of 144, for 3x3 kernels at stride 1
without dilation or groups; other layers fall back to 'numba'); 'auto' times every kernel
that applies on the first call of each op and shape, and keeps the fastest. CuPy arrays
use the CUDA kernels of kernels/im2col.cu with cuBLAS GEMMs.
"""
import numbers
import time

from ..autograd import Function
from ..backend import array_module, is_cupy_array
from ..cpu_kernels import conv_numba, im2col, winograd
from ..cpu_kernels.conv_geometry import ConvGeometry, correlation_size
from ..cpu_kernels.threads import num_threads
from ..gpu_kernels import conv as gpu_conv

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "set_conv_algorithm"]
nondifferentiable = ("set_conv_algorithm",)

# im2col and numba compute every geometry; a kernel with a `supports(geometry)` test only some.
_KERNELS = {"im2col": im2col, "numba": conv_numba, "winograd": winograd}
_FALLBACK = "numba"
_algorithm = "auto"
_fastest = {}   # (kernel op, geometry, shapes, dtype, threads) -> name of the fastest kernel


def set_conv_algorithm(name):
    """Choose the CPU convolution kernels: 'im2col', 'numba', 'winograd' (where the layer is a
    3x3, stride-1 one, else 'numba'), or 'auto' (time every kernel that applies, per op and shape)."""
    global _algorithm
    if name not in ("auto",) + tuple(_KERNELS):
        choices = ", ".join(repr(choice) for choice in _KERNELS)
        raise ValueError(f"set_conv_algorithm: expected {choices} or 'auto', got {name!r}")
    _algorithm = name


def _candidates(geometry):
    """The kernels to choose among for `geometry`: the chosen one where it applies (else
    _FALLBACK), or for 'auto' every one that applies."""
    usable = [name for name, kernel in _KERNELS.items()
              if not hasattr(kernel, "supports") or kernel.supports(geometry)]
    if _algorithm == "auto":
        return usable
    return [_algorithm if _algorithm in usable else _FALLBACK]


def _run(op, geometry, *arrays, **options):
    """Call kernel function `op` (forward, input_grad, weight_grad) of the chosen algorithm;
    `options` is the bias that forward and input_grad add to their output.

    CuPy arrays take the CUDA im2col/col2im kernels with cuBLAS GEMMs (gpu_kernels/conv.py).
    """
    if is_cupy_array(arrays[0]):
        return getattr(gpu_conv, op)(*arrays, geometry, **options)
    candidates = _candidates(geometry)
    name = (candidates[0] if len(candidates) == 1
            else _fastest_of(candidates, op, geometry, arrays, options))
    return getattr(_KERNELS[name], op)(*arrays, geometry, **options)


def _fastest_of(candidates, op, geometry, arrays, options):
    """The candidate kernel fastest at `op` on these arrays' shapes, timed on the first call.

    The kernels round differently, so _run then computes the result with the chosen one, even
    on the first call: every call for a shape gives the same bits (gradcheck tests that).
    """
    key = (op, geometry, tuple(a.shape for a in arrays), arrays[0].dtype, num_threads())
    if key not in _fastest:
        timings = {}
        for name in candidates:
            function = getattr(_KERNELS[name], op)
            function(*arrays, geometry, **options)   # the first call may compile or warm caches
            # The best of two runs: on a shared machine one run can be slowed by other processes.
            timings[name] = min(_seconds(function, *arrays, geometry, **options) for _ in range(2))
        _fastest[key] = min(timings, key=timings.get)
    return _fastest[key]


def _seconds(function, *arguments, **options):
    start = time.perf_counter()
    function(*arguments, **options)
    return time.perf_counter() - start


def _planar(array):
    """View a 1-d signal (N, C, L) as an image of height 1 (N, C, 1, L); images pass through."""
    return array if array.ndim == 4 else array.reshape(array.shape[:2] + (1,) + array.shape[2:])


def _like(array, ndim):
    """Undo _planar: drop the height-1 axis again when the op's tensors are 1-d signals."""
    return array if ndim == 4 else array.reshape(array.shape[:2] + array.shape[3:])


class _Bilinear(Function):
    """What Conv and ConvTranspose share: out = kernel(a, w) + b, bilinear in (a, w).

    A bilinear map's gradient w.r.t. a is its adjoint applied to the output gradient g, and
    w.r.t. w it is the weight gradient of the correlation the pair describes; each subclass
    names its kernel, its adjoint, and which of (a, g) plays the correlation's input.
    """
    kernel = adjoint = None
    saved = {"a": "w", "w": "a"}

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, a, w, b=None):
        # The kernels add the bias where they write their output, while it is in cache.
        return _like(_run(self.kernel, self.geometry, _planar(a), _planar(w), bias=b), a.ndim)

    def backward(self, g):
        a, w, b = (self.inputs + [None])[:3]   # called without a bias from other backwards
        ga = self.adjoint(self.geometry)(g, w) if a.requires_grad else None
        gw = ConvWeightGrad(self.geometry, w.shape)(*self.correlated(a, g)) if w.requires_grad else None
        gb = ChannelSum()(g) if b is not None and b.requires_grad else None
        return (ga, gw, gb)[:len(self.inputs)]


class Conv(_Bilinear):
    """y[n, o] = b[o] + sum_{c, i, j} w[o, c, i, j] x_padded[n, g c, oh s + i d, ow s + j d].

    x (N, C, H, W) or (N, C, L); w (O, C / groups, kh, kw) or (O, C / groups, k); b (O,) or None.
    dL/dx = ConvTranspose(dL/dy, w),  dL/dw = ConvWeightGrad(x, dL/dy),  dL/db = dL/dy summed
    over every axis but the channels.
    """
    kernel = "forward"

    @staticmethod
    def correlated(x, gy):
        return x, gy


class ConvTranspose(_Bilinear):
    """x = b + the adjoint of Conv's map x -> y, applied to y: every y[n, o, oh, ow] is spread
    back over the window it would have been computed from, weighted by w[o, c, i, j].

    y (N, O, out_h, out_w) -> (N, C, H, W) with w (O, C / groups, kh, kw), b (C,) or None.
    dL/dy = Conv(dL/dx, w),  dL/dw = ConvWeightGrad(dL/dx, y),  dL/db = channel sum of dL/dx.
    """
    kernel = "input_grad"

    @staticmethod
    def correlated(y, gx):
        return gx, y


# Each is the other's adjoint (set here, once both classes exist).
Conv.adjoint, ConvTranspose.adjoint = ConvTranspose, Conv


class ConvWeightGrad(Function):
    """gw[o, c, i, j] = sum_{n, oh, ow} gy[n, o, oh, ow] x_padded[n, g c, oh s + i d, ow s + j d].

    The weight gradient of Conv, bilinear in (x, gy), so with v = dL/dgw:
    dL/dx = ConvTranspose(gy, v),  dL/dgy = Conv(x, v).
    """

    saved = {"x": "gy", "gy": "x"}

    def __init__(self, geometry, weight_shape):
        self.geometry, self.weight_shape = geometry, tuple(weight_shape)

    def forward(self, x, gy):
        return _run("weight_grad", self.geometry, _planar(x), _planar(gy)).reshape(self.weight_shape)

    def backward(self, gw):
        x, gy = self.inputs
        gx = ConvTranspose(self.geometry)(gy, gw) if x.requires_grad else None
        ggy = Conv(self.geometry)(x, gw) if gy.requires_grad else None
        return gx, ggy


class ChannelSum(Function):
    """y[c] = sum of x[:, c, ...] (a bias's gradient).   dL/dx = dL/dy[c] at every position of channel c."""

    saved = {}

    def forward(self, x):
        # The batch first: adding whole samples runs along contiguous memory, and then each
        # channel's pixels are contiguous too; one reduction over (0, 2, 3) strides through
        # memory and measured 2-3x slower.
        return x.sum(axis=0).reshape(x.shape[1], -1).sum(axis=1)

    def backward(self, gy):
        return ChannelBroadcast(self.inputs[0].shape)(gy)


class ChannelBroadcast(Function):
    """y[:, c, ...] = b[c] over `shape`, the adjoint of ChannelSum.   dL/db = ChannelSum(dL/dy)."""

    saved = {}

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, b):
        xp = array_module(b)
        return xp.broadcast_to(b.reshape((1, -1) + (1,) * (len(self.shape) - 2)), self.shape)

    def backward(self, gy):
        return ChannelSum()(gy)


# --- public functions with PyTorch's signatures -------------------------------------------

def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation, as torch.nn.functional.conv2d (padding may be 'same' or 'valid').

    input (N, C, H, W), weight (O, C / groups, kh, kw), bias (O,) -> (N, O, out_h, out_w).
    """
    geometry = _conv_geometry("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)
    return Conv(geometry)(input, weight, bias)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation, as torch.nn.functional.conv1d: input (N, C, L), weight (O, C / groups, k)."""
    geometry = _conv_geometry("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)
    return Conv(geometry)(input, weight, bias)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed convolution, as torch.nn.functional.conv_transpose2d: the gradient of conv2d
    with respect to its input, used to upsample.

    input (N, C_in, H, W), weight (C_in, C_out / groups, kh, kw), bias (C_out,)
    -> (N, C_out, (H - 1) s - 2 p + d (k - 1) + output_padding + 1, ...).
    """
    op = "conv_transpose2d"
    _check_ranks(op, input, weight, 2)
    stride, dilation = _pair(op, "stride", stride, 1), _pair(op, "dilation", dilation, 1)
    padding, output_padding = _pair(op, "padding", padding, 0), _pair(op, "output_padding", output_padding, 0)
    groups = _check_groups(op, groups, input.shape[1], weight.shape[0], input, weight)
    if input.shape[1] != weight.shape[0]:
        raise ValueError(f"{op}: input has {input.shape[1]} channels but weight expects "
                         f"{weight.shape[0]} (input {input.shape}, weight {weight.shape})")
    for extra, s, d in zip(output_padding, stride, dilation):
        if extra >= max(s, d):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either "
                             f"stride {stride} or dilation {dilation}")
    kernel, in_size = tuple(weight.shape[2:]), tuple(input.shape[2:])
    out_size = tuple((size - 1) * s - 2 * p + d * (k - 1) + extra + 1 for size, s, p, d, k, extra
                     in zip(in_size, stride, padding, dilation, kernel, output_padding))
    if min(out_size) < 1:
        raise ValueError(f"{op}: the output would have size {out_size} (input {input.shape}, "
                         f"weight {weight.shape}, stride {stride}, padding {padding})")
    _check_bias(op, bias, weight.shape[1] * groups)
    geometry = ConvGeometry(out_size, in_size, kernel, stride, tuple((p, p) for p in padding),
                            dilation, groups)
    return ConvTranspose(geometry)(input, weight, bias)


# --- argument checking: every message names the op, the argument and the shapes -------------

def _conv_geometry(op, x, w, bias, stride, padding, dilation, groups, spatial):
    _check_ranks(op, x, w, spatial)
    stride, dilation = _pair(op, "stride", stride, 1, spatial), _pair(op, "dilation", dilation, 1, spatial)
    kernel, in_size = tuple(w.shape[2:]), tuple(x.shape[2:])
    groups = _check_groups(op, groups, x.shape[1], w.shape[0], x, w)
    if x.shape[1] != w.shape[1] * groups:
        raise ValueError(f"{op}: input has {x.shape[1]} channels but weight expects "
                         f"{w.shape[1] * groups} (input {x.shape}, weight {w.shape})")
    pads = _padding(op, padding, stride, dilation, kernel, spatial)
    _check_bias(op, bias, w.shape[0])
    if spatial == 1:   # a signal is an image of height 1
        kernel, in_size, stride, dilation, pads = ((1,) + kernel, (1,) + in_size, (1,) + stride,
                                                   (1,) + dilation, ((0, 0),) + pads)
    out_size = tuple(correlation_size(*axis) for axis in zip(in_size, kernel, stride, pads, dilation))
    if min(out_size) < 1:
        padded = tuple(size + before + after for size, (before, after) in zip(in_size, pads))
        dilated = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
        raise ValueError(f"{op}: kernel size {dilated[-spatial:]} (after dilation) is larger than "
                         f"the padded input {padded[-spatial:]} (input {x.shape}, weight {w.shape})")
    return ConvGeometry(in_size, out_size, kernel, stride, pads, dilation, groups)


def _check_ranks(op, x, w, spatial):
    layout = "(batch, channels, length)" if spatial == 1 else "(batch, channels, height, width)"
    if x.ndim != spatial + 2:
        raise ValueError(f"{op}: expected a {spatial + 2}-d input {layout}, got shape {x.shape}")
    if w.ndim != spatial + 2:
        raise ValueError(f"{op}: expected a {spatial + 2}-d weight, got shape {w.shape}")
    if x.dtype != w.dtype:
        raise TypeError(f"{op}: input dtype {x.dtype} and weight dtype {w.dtype} differ")


def _check_groups(op, groups, in_channels, out_channels, x, w):
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{op}: groups={groups} must divide both the input channels and the "
                         f"weight's first dimension (input {x.shape}, weight {w.shape})")
    return int(groups)


def _check_bias(op, bias, channels):
    if bias is not None and tuple(bias.shape) != (channels,):
        raise ValueError(f"{op}: expected bias of shape ({channels},), got {tuple(bias.shape)}")


def _pair(op, name, value, minimum, spatial=2):
    """An int or a tuple as one value per spatial axis, each at least `minimum`."""
    values = ((value,) * spatial if isinstance(value, numbers.Integral)
              else tuple(value) if isinstance(value, (tuple, list)) else ())
    if len(values) != spatial or not all(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {spatial} "
                         f"{'ints' if spatial > 1 else 'int'}, got {value!r}")
    if min(values) < minimum:
        rule = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {rule}, got {value!r}")
    return tuple(int(v) for v in values)   # NumPy integers become ints: geometry keys stay plain


def _padding(op, padding, stride, dilation, kernel, spatial):
    """((before, after), ...) per spatial axis, from an int, a tuple, 'valid' or 'same'."""
    if padding == "valid":
        return ((0, 0),) * spatial
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        # As PyTorch: the total d (k - 1) is split with the odd element after (bottom/right).
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((total // 2, total - total // 2) for total in totals)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    return tuple((p, p) for p in _pair(op, "padding", padding, 0, spatial))
