"""Quantized tensors and the integer ops of an int8 network (no gradients: inference only).

A QTensor stores integer codes q and the affine map to the real numbers they stand for,

    r = scale * (q - zero_point),       q = clamp(round(r / scale) + zero_point, quant_min, quant_max)

with round half to even. One scale and zero point for the whole tensor (per tensor), or one
per slice along `axis` (per channel, used for weights: each output channel gets a scale that
fits its own range). Activations are quint8 (codes 0..255), weights qint8 (-128..127).

The ops take QTensors and return QTensors computed in integers only (the arithmetic is
spelt out in cpu_kernels/reference/int8.py):

    quantized_conv2d, quantized_linear    int8 x uint8 products summed in int32, int32 bias,
                                          requantized by a fixed-point multiplier and shift
    quantized_add                         two scales brought to one in fixed point (TFLite)
    quantized_relu, quantized_max_pool2d  on the codes: max commutes with the affine map
    quantized_adaptive_avg_pool2d         integer mean of the codes, rounded

The convolution and the linear layer run the Numba kernels of cpu_kernels/int8.py.
"""
import numbers

import numpy

from ..autograd import Tensor
from ..backend import array_module, is_cupy_array, to_numpy
from ..cpu_kernels import int8
from ..cpu_kernels.conv_geometry import ConvGeometry, correlation_size

__all__ = ["QTensor", "dequantize", "quantize_multiplier", "quantize_per_channel",
           "quantize_per_tensor", "quantized_adaptive_avg_pool2d", "quantized_add",
           "quantized_conv2d", "quantized_linear", "quantized_max_pool2d", "quantized_relu"]
nondifferentiable = tuple(__all__)

# The code types: PyTorch's names, the NumPy dtype of the codes, and their full range.
QUANTIZED_DTYPES = {"quint8": (numpy.uint8, 0, 255), "qint8": (numpy.int8, -128, 127)}


class QTensor:
    """Integer codes with their scale and zero point: r = scale * (q - zero_point).

    codes: a uint8 (quint8) or int8 (qint8) NumPy array. Per tensor: `scale` a float32
    number, `zero_point` an int, `axis` None. Per channel: `scale` and `zero_point` arrays
    with one entry per index of dimension `axis` of the codes.
    """
    # A QTensor handed to a float op would be read as an array of Python objects, or worse;
    # NumPy asks for __array__ first, so that op fails here instead, with the reason.
    def __array__(self, *args, **kwargs):
        raise TypeError("a QTensor (quantized codes) reached an op that expects a float Tensor; "
                        "dequantize it first (a DeQuantStub in the model), or keep that part "
                        "of the model in float (see minicnn.quantization.prepare)")

    def __init__(self, codes, scale, zero_point, axis=None):
        self.codes = codes
        self.axis = axis
        if axis is None:
            self.scale, self.zero_point = numpy.float32(scale), int(zero_point)
        else:
            self.scale = numpy.asarray(scale, numpy.float32)
            self.zero_point = numpy.asarray(zero_point, numpy.int64)

    @property
    def dtype(self):
        return "quint8" if self.codes.dtype == numpy.uint8 else "qint8"

    @property
    def shape(self):
        return tuple(self.codes.shape)

    @property
    def ndim(self):
        return self.codes.ndim

    def int_repr(self):
        """The codes as an integer Tensor (sharing memory), as torch's int_repr()."""
        return Tensor(self.codes)

    def dequantize(self):
        return dequantize(self)

    def reshape(self, *shape):
        if self.axis is not None:
            raise ValueError("QTensor.reshape: a per-channel QTensor cannot be reshaped (its "
                             "scales belong to one dimension)")
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return QTensor(self.codes.reshape(shape), self.scale, self.zero_point)

    def centered_rows(self):
        """The codes minus their zero points as int16 rows (one per index of dimension 0,
        flattened): the weight matrix of the integer kernels."""
        zero_point = (self.zero_point if self.axis is None
                      else along_axis(self.zero_point, self.axis, self.ndim))
        rows = self.codes.astype(numpy.int16) - numpy.asarray(zero_point).astype(numpy.int16)
        return numpy.ascontiguousarray(rows.reshape(self.codes.shape[0], -1))

    def __repr__(self):
        if self.axis is None:
            qparams = f"scale={float(self.scale):.6g}, zero_point={self.zero_point}"
        else:
            qparams = f"per-channel scales along axis {self.axis}"
        return f"QTensor(shape={self.shape}, dtype={self.dtype}, {qparams})"


# --- quantize and dequantize -----------------------------------------------------------------

def quantize_per_tensor(input, scale, zero_point, dtype="quint8", quant_min=None, quant_max=None):
    """q = clamp(round(x / scale) + zero_point, quant_min, quant_max) with one scale and zero
    point; the range defaults to the dtype's ('quint8' 0..255, 'qint8' -128..127)."""
    op = "quantize_per_tensor"
    quant_min, quant_max = code_range(op, dtype, quant_min, quant_max)
    scale = check_scale(op, scale)
    zero_point = check_zero_point(op, zero_point, quant_min, quant_max)
    x = _as_float_array(op, input)
    codes = affine_codes(x, scale, zero_point, quant_min, quant_max)
    return QTensor(codes.astype(QUANTIZED_DTYPES[dtype][0]), scale, zero_point)


def quantize_per_channel(input, scales, zero_points, axis, dtype="qint8", quant_min=None,
                         quant_max=None):
    """As quantize_per_tensor with scales[c] and zero_points[c] for each slice c along `axis`."""
    op = "quantize_per_channel"
    quant_min, quant_max = code_range(op, dtype, quant_min, quant_max)
    x = _as_float_array(op, input)
    if not isinstance(axis, numbers.Integral) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{op}: axis must be a dimension of the input (shape {x.shape}), got {axis!r}")
    axis = int(axis) % x.ndim
    scales = check_scale(op, scales, x.shape[axis], "scales")
    zero_points = check_zero_point(op, zero_points, quant_min, quant_max, x.shape[axis], "zero_points")
    codes = affine_codes(x, along_axis(scales, axis, x.ndim), along_axis(zero_points, axis, x.ndim),
                         quant_min, quant_max)
    return QTensor(codes.astype(QUANTIZED_DTYPES[dtype][0]), scales, zero_points, axis)


def dequantize(input):
    """r = scale * (q - zero_point) as a float32 Tensor."""
    if not isinstance(input, QTensor):
        raise TypeError(f"dequantize: expected a QTensor, got {type(input).__name__}")
    scale, zero_point = input.scale, input.zero_point
    if input.axis is not None:
        scale = along_axis(scale, input.axis, input.ndim)
        zero_point = along_axis(zero_point, input.axis, input.ndim)
    return Tensor(affine_values(input.codes, scale, zero_point))


def affine_codes(x, scale, zero_point, quant_min, quant_max):
    """clamp(round(x / scale) + zero_point, quant_min, quant_max) as float codes of x's dtype.

    As PyTorch's fake quantization, in float32 arithmetic: x times 1 / scale (both float32),
    rounded half to even, then the zero point added. (torch.quantize_per_tensor's fbgemm
    path adds the zero point before rounding, with one fused multiply-add: at an exact half
    the two can differ by one code; between halves they agree.)
    """
    xp = array_module(x)
    inverse_scale = numpy.float32(1) / numpy.asarray(scale, numpy.float32)
    codes = xp.rint(x * xp.asarray(inverse_scale, dtype=x.dtype)) + xp.asarray(zero_point)
    return xp.clip(codes, quant_min, quant_max, out=codes)


def affine_values(codes, scale, zero_point, dtype=numpy.float32):
    """scale * (codes - zero_point) in `dtype` (PyTorch's order: the difference, then the product)."""
    xp = array_module(codes)
    return ((codes - xp.asarray(zero_point, dtype=dtype)).astype(dtype, copy=False)
            * xp.asarray(scale, dtype=numpy.float32).astype(dtype))


# --- integer ops -----------------------------------------------------------------------------

def quantize_multiplier(real_multiplier):
    """(multiplier, shift) int64 arrays with real_multiplier = multiplier * 2^(shift - 31) and
    multiplier in [2^30, 2^31): TensorFlow Lite's QuantizeMultiplier, elementwise. The
    fraction of frexp is rounded to 31 bits, halves away from zero."""
    real = numpy.asarray(real_multiplier, numpy.float64)
    if not (numpy.isfinite(real).all() and (real >= 0).all() and (real < 2.0 ** 31).all()):
        raise ValueError(f"quantize_multiplier: expected finite multipliers in [0, 2^31), got {real}")
    fraction, shift = numpy.frexp(real)
    multiplier = numpy.floor(numpy.abs(fraction) * 2.0 ** 31 + 0.5).astype(numpy.int64)
    carry = multiplier == 2 ** 31                 # the fraction rounded up to 1.0
    multiplier = numpy.where(carry, multiplier // 2, multiplier)
    shift = shift.astype(numpy.int64) + carry
    vanishing = (real == 0) | (shift < -31)       # rounds to 0 whatever the accumulator
    return numpy.where(vanishing, 0, multiplier), numpy.where(vanishing, 0, shift)


def quantized_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
                     scale=1.0, zero_point=0, relu=False, quant_min=0, quant_max=255):
    """Quantized 2-d convolution: input (N, C, H, W) quint8, weight (O, C, kh, kw) qint8 (per
    tensor, or per channel along axis 0), bias (O,) float or None -> quint8 (N, O, out_h, out_w)
    with the given output scale and zero point. relu=True clamps at the zero point (a fused
    ReLU). Zero padding only, groups = 1.
    """
    op = "quantized_conv2d"
    _check_quantized(op, "input", input, "quint8", 4)
    _check_quantized(op, "weight", weight, "qint8", 4)
    if groups != 1:
        raise ValueError(f"{op}: groups={groups} is not supported, only groups=1")
    if input.shape[1] != weight.shape[1]:
        raise ValueError(f"{op}: input has {input.shape[1]} channels but weight expects "
                         f"{weight.shape[1]} (input {input.shape}, weight {weight.shape})")
    geometry = _conv_geometry(op, input.shape, weight.shape, stride, padding, dilation)
    bias, multiplier, shift, low, high = _requantization(op, input, weight, bias, scale,
                                                         zero_point, relu, quant_min, quant_max)
    codes = _kernels(op, input.codes).conv2d(input.codes, input.zero_point, weight.centered_rows(),
                                             bias, multiplier, shift, int(zero_point), low, high,
                                             geometry)
    return QTensor(codes, scale, zero_point)


def quantized_linear(input, weight, bias=None, scale=1.0, zero_point=0, relu=False,
                     quant_min=0, quant_max=255):
    """Quantized linear layer: input (N, in_features) quint8, weight (out_features,
    in_features) qint8, bias float or None -> quint8 (N, out_features); as quantized_conv2d."""
    op = "quantized_linear"
    _check_quantized(op, "input", input, "quint8", 2)
    _check_quantized(op, "weight", weight, "qint8", 2)
    if input.shape[1] != weight.shape[1]:
        raise ValueError(f"{op}: input has {input.shape[1]} features but weight expects "
                         f"{weight.shape[1]} (input {input.shape}, weight {weight.shape})")
    bias, multiplier, shift, low, high = _requantization(op, input, weight, bias, scale,
                                                         zero_point, relu, quant_min, quant_max)
    codes = _kernels(op, input.codes).linear(input.codes, input.zero_point, weight.centered_rows(),
                                             bias, multiplier, shift, int(zero_point), low, high)
    return QTensor(codes, scale, zero_point)


# TensorFlow Lite's quantized ADD shifts the inputs this many bits left before rescaling them
# (cpu_kernels/reference/int8.py says why).
ADD_LEFT_SHIFT = 20


def quantized_add(a, b, scale, zero_point, relu=False, quant_min=0, quant_max=255):
    """a + b for two quint8 QTensors of one shape and any scales -> quint8 with the given
    scale and zero point (and clamped at the zero point when relu=True)."""
    op = "quantized_add"
    _check_quantized(op, "a", a, "quint8")
    _check_quantized(op, "b", b, "quint8")
    if a.shape != b.shape:
        raise ValueError(f"{op}: a and b must have the same shape, got {a.shape} and {b.shape}")
    scale = check_scale(op, scale)
    zero_point = check_zero_point(op, zero_point, quant_min, quant_max)
    twice_larger = 2 * max(float(a.scale), float(b.scale))
    a_multiplier, a_shift = quantize_multiplier(float(a.scale) / twice_larger)
    b_multiplier, b_shift = quantize_multiplier(float(b.scale) / twice_larger)
    multiplier, shift = quantize_multiplier(twice_larger / (2 ** ADD_LEFT_SHIFT * float(scale)))
    low = max(quant_min, zero_point) if relu else quant_min
    codes = _kernels(op, a.codes).add(a.codes, a.zero_point, int(a_multiplier), int(a_shift),
                                      b.codes, b.zero_point, int(b_multiplier), int(b_shift),
                                      zero_point, int(multiplier), int(shift), low, quant_max,
                                      ADD_LEFT_SHIFT)
    return QTensor(codes, scale, zero_point)


def quantized_relu(input):
    """max(r, 0) on the codes: max(q, zero_point), with the input's scale and zero point."""
    _check_quantized("quantized_relu", "input", input)
    zero = numpy.asarray(input.zero_point, input.codes.dtype)
    return QTensor(numpy.maximum(input.codes, zero), input.scale, input.zero_point)


def quantized_max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1):
    """Max pooling of the codes (the affine map keeps the order, so the largest code is the
    code of the largest value); same scale and zero point. Padding is the smallest code."""
    op = "quantized_max_pool2d"
    _check_quantized(op, "input", input, ndim=4)
    kernel = _pair(op, "kernel_size", kernel_size)
    stride = kernel if stride is None else _pair(op, "stride", stride)
    padding, dilation = _pair(op, "padding", padding, 0), _pair(op, "dilation", dilation)
    padded = numpy.pad(input.codes, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2),
                       constant_values=numpy.iinfo(input.codes.dtype).min)
    out_size = [correlation_size(size, k, s, (p, p), d) for size, k, s, p, d
                in zip(input.shape[2:], kernel, stride, padding, dilation)]
    if min(out_size) < 1:
        raise ValueError(f"{op}: kernel_size {kernel} is larger than the padded input "
                         f"{padded.shape[2:]} (input {input.shape})")
    codes = None
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            top, left = i * dilation[0], j * dilation[1]
            tap = padded[:, :, top:top + stride[0] * (out_size[0] - 1) + 1:stride[0],
                         left:left + stride[1] * (out_size[1] - 1) + 1:stride[1]]
            codes = tap.copy() if codes is None else numpy.maximum(codes, tap, out=codes)
    return QTensor(codes, input.scale, input.zero_point)


def quantized_adaptive_avg_pool2d(input, output_size):
    """The mean of the codes over adaptive_avg_pool2d's windows, rounded half away from zero;
    same scale and zero point (the mean of values is the mean of codes under the affine map)."""
    op = "quantized_adaptive_avg_pool2d"
    _check_quantized(op, "input", input, ndim=4)
    out_h, out_w = _pair(op, "output_size", output_size)
    (height, width), zero_point = input.shape[2:], input.zero_point
    codes = numpy.empty(input.shape[:2] + (out_h, out_w), input.codes.dtype)
    centered = input.codes.astype(numpy.int64) - zero_point
    for oh in range(out_h):
        rows = slice(oh * height // out_h, -(-(oh + 1) * height // out_h))
        for ow in range(out_w):
            columns = slice(ow * width // out_w, -(-(ow + 1) * width // out_w))
            window = centered[:, :, rows, columns]
            total, count = window.sum(axis=(2, 3)), window.shape[2] * window.shape[3]
            mean = numpy.sign(total) * ((2 * numpy.abs(total) + count) // (2 * count))
            codes[:, :, oh, ow] = mean + zero_point
    return QTensor(codes, input.scale, input.zero_point)


# --- arguments -----------------------------------------------------------------------------------

def code_range(op, dtype, quant_min=None, quant_max=None):
    """(quant_min, quant_max) for `dtype`, each defaulting to the dtype's own limit."""
    if dtype not in QUANTIZED_DTYPES:
        raise ValueError(f"{op}: dtype must be 'quint8' or 'qint8', got {dtype!r}")
    _, lowest, highest = QUANTIZED_DTYPES[dtype]
    quant_min = lowest if quant_min is None else quant_min
    quant_max = highest if quant_max is None else quant_max
    if not lowest <= quant_min < quant_max <= highest:
        raise ValueError(f"{op}: need {lowest} <= quant_min < quant_max <= {highest} for "
                         f"{dtype}, got quant_min={quant_min}, quant_max={quant_max}")
    return int(quant_min), int(quant_max)


def check_scale(op, scale, count=None, name="scale"):
    """The scale(s) as float32, after checking each is a positive finite number."""
    values = numpy.asarray(to_numpy(scale.data) if isinstance(scale, Tensor) else scale,
                           dtype=numpy.float64)
    if count is not None and values.shape != (count,):
        raise ValueError(f"{op}: expected {count} {name} (one per channel), got shape {values.shape}")
    if count is None and values.size != 1:
        raise ValueError(f"{op}: {name} must be one number, got shape {values.shape}")
    bad = ~(numpy.isfinite(values) & (values > 0) & (values.astype(numpy.float32) > 0))
    if bad.any():
        where = "" if count is None else f" (channel {int(numpy.flatnonzero(bad)[0])})"
        raise ValueError(f"{op}: {name} must be positive and finite, got "
                         f"{values.ravel()[bad.ravel()][0]}{where}")
    return values.astype(numpy.float32) if count is not None else numpy.float32(values.item())


def check_zero_point(op, zero_point, quant_min, quant_max, count=None, name="zero_point"):
    values = numpy.asarray(to_numpy(zero_point.data) if isinstance(zero_point, Tensor) else zero_point)
    if count is not None and values.shape != (count,):
        raise ValueError(f"{op}: expected {count} {name} (one per channel), got shape {values.shape}")
    if values.dtype.kind not in "iu" and not (numpy.isfinite(values).all() and (values == numpy.round(values)).all()):
        raise ValueError(f"{op}: {name} must be integers, got {values}")
    if ((values < quant_min) | (values > quant_max)).any():
        raise ValueError(f"{op}: {name} must lie in [{quant_min}, {quant_max}], got {values}")
    return values.astype(numpy.int64) if count is not None else int(values)


def _as_float_array(op, input):
    x = to_numpy(input.data) if isinstance(input, Tensor) else numpy.asarray(input)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a float input, got dtype {x.dtype}")
    return x


def _check_quantized(op, name, value, dtype=None, ndim=None):
    if not isinstance(value, QTensor):
        raise TypeError(f"{op}: {name} must be a QTensor (quantized codes), got "
                        f"{type(value).__name__}; quantize it first (a QuantStub in the model)")
    if dtype is not None and value.dtype != dtype:
        raise TypeError(f"{op}: {name} must be {dtype}, got {value.dtype}")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{op}: {name} must be {ndim}-d, got shape {value.shape}")
    if value.axis is not None and (name != "weight" or value.axis != 0):
        raise ValueError(f"{op}: {name} must be quantized per tensor"
                         + (" or per output channel (axis 0)" if name == "weight" else "")
                         + f", got per-channel scales along axis {value.axis}")


def _requantization(op, input, weight, bias, scale, zero_point, relu, quant_min, quant_max):
    """The int32 bias, per-channel multipliers and shifts, and the output clamp [low, high]."""
    scale = check_scale(op, scale)
    quant_min, quant_max = code_range(op, "quint8", quant_min, quant_max)
    zero_point = check_zero_point(op, zero_point, quant_min, quant_max)
    channels = weight.shape[0]
    product_scale = (numpy.float64(input.scale)
                     * numpy.broadcast_to(weight.scale, (channels,)).astype(numpy.float64))
    if bias is None:
        bias_int32 = numpy.zeros(channels, numpy.int64)
    else:
        bias = numpy.asarray(to_numpy(bias.data) if isinstance(bias, Tensor) else bias, numpy.float64)
        if bias.shape != (channels,):
            raise ValueError(f"{op}: expected bias of shape ({channels},), got {bias.shape}")
        bias_int32 = numpy.clip(numpy.rint(bias / product_scale), -2 ** 31, 2 ** 31 - 1).astype(numpy.int64)
    multiplier, shift = quantize_multiplier(product_scale / numpy.float64(scale))
    low = max(quant_min, zero_point) if relu else quant_min
    return bias_int32, multiplier, shift, low, quant_max


def _conv_geometry(op, in_shape, weight_shape, stride, padding, dilation):
    stride, dilation = _pair(op, "stride", stride), _pair(op, "dilation", dilation)
    padding = _pair(op, "padding", padding, 0)
    kernel, in_size = tuple(weight_shape[2:]), tuple(in_shape[2:])
    pads = tuple((p, p) for p in padding)
    out_size = tuple(correlation_size(*axis) for axis in zip(in_size, kernel, stride, pads, dilation))
    if min(out_size) < 1:
        raise ValueError(f"{op}: kernel size {kernel} (dilation {dilation}) is larger than the "
                         f"padded input (input {tuple(in_shape)}, padding {padding})")
    return ConvGeometry(in_size, out_size, kernel, stride, pads, dilation, 1)


def _pair(op, name, value, minimum=1):
    values = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) and v >= minimum for v in values):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints of at least {minimum}, "
                         f"got {value!r}")
    return tuple(int(v) for v in values)


def along_axis(values, axis, ndim):
    """Per-channel values shaped to broadcast along `axis` of an ndim-d array."""
    shape = [1] * ndim
    shape[axis] = -1
    return numpy.asarray(values).reshape(shape)


def _kernels(op, codes):
    """The one dispatch point of the integer kernels (CPU only so far)."""
    if is_cupy_array(codes):
        raise NotImplementedError(f"{op}: the quantized ops run on the CPU only; move the "
                                  "model and its input there (model.cpu())")
    return int8
