"""Quantized convolution, linear layer and add on the GPU (kernels/int8.cu, with __dp4a), with
the same functions and arguments as cpu_kernels/int8.py: codes on the device, the weight
rows (codes minus zero points, int16) and the per-channel bias, multiplier and shift as
NumPy arrays (uploaded here). kernels/int8.cu's header explains the int8 offsets x' and w'
that this module prepares for it."""
import numpy

from ..backend import array_module, to_numpy
from ..backend.cuda_kernels import get_kernel, int32, int64, launch
from ..cpu_kernels.conv_geometry import ConvGeometry

_BYTES_PER_WORD = 4                  # __dp4a multiplies four bytes packed in an int
_ACTIVATION_SHIFT = 128              # x' = x - 128 is a signed byte for every uint8 code x


def _packed_weight(cupy, weight, words):
    """(w' packed 4 per int32 (O, words), d (O,) int32, sum_k b[o, k] (O,) int64) for the
    weight rows b (O, K): w' = b - d in [-128, 127], zero past K (where b counts as d)."""
    b = to_numpy(weight).astype(numpy.int64)
    low, high = b.min(axis=1), b.max(axis=1)
    if (high - low > 255).any():
        o = int(numpy.argmax(high - low))
        raise ValueError(f"int8 GPU kernels: weight row {o} spans {int(low[o])}..{int(high[o])}, "
                         "more than the 256 values of int8 codes minus one zero point")
    fits = (low >= -128) & (high <= 127)
    offset = numpy.where(fits, 0, low + 128)
    shifted = numpy.zeros((b.shape[0], words * _BYTES_PER_WORD), numpy.int8)
    shifted[:, :b.shape[1]] = b - offset[:, None]
    weight_sum = b.sum(axis=1) + (shifted.shape[1] - b.shape[1]) * offset
    return (cupy.asarray(shifted.view(numpy.int32)), cupy.asarray(offset, dtype=numpy.int32),
            cupy.asarray(weight_sum, dtype=numpy.int64))


def conv2d(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high, geometry):
    """Output codes (N, O, out_h, out_w) uint8 of a quantized convolution (groups = 1): x
    (N, C, H, W) uint8 codes on the device, the rest as cpu_kernels/int8.py's conv2d."""
    cupy = array_module(x)
    x = cupy.ascontiguousarray(x)
    (batch, channels), out_channels = x.shape[:2], weight.shape[0]
    pixels = geometry.out_size[0] * geometry.out_size[1]
    words = -(-weight.shape[1] // _BYTES_PER_WORD)
    (top, _), (left, _) = geometry.padding
    columns = cupy.empty((batch, pixels, words * _BYTES_PER_WORD), numpy.int8)
    launch(get_kernel("int8", "int8_im2col"), columns.size, x, columns,
           *(int32(v) for v in (batch, channels, *geometry.in_size, *geometry.kernel,
                                *geometry.stride, top, left, *geometry.dilation,
                                *geometry.out_size, words * _BYTES_PER_WORD, x_zero_point)))
    packed, offset, weight_sum = _packed_weight(cupy, weight, words)
    per_channel = (cupy.asarray(values, dtype=numpy.int32) for values in (bias, multiplier, shift))
    out = cupy.empty((batch, out_channels, pixels), numpy.uint8)
    launch(get_kernel("int8", "int8_products_requantized"), out.size,
           columns.view(numpy.int32), packed, offset, weight_sum, *per_channel, out,
           *(int32(v) for v in (batch, out_channels, pixels, words,
                                _ACTIVATION_SHIFT - x_zero_point, zero_point, low, high)))
    return out.reshape((batch, out_channels) + tuple(geometry.out_size))


def linear(x, x_zero_point, weight, bias, multiplier, shift, zero_point, low, high):
    """Output codes (N, O) uint8 of a quantized linear layer: the convolution of x (N, K) as
    (N, K, 1, 1) images with 1x1 windows."""
    one = ConvGeometry((1, 1), (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    codes = conv2d(x.reshape(x.shape + (1, 1)), x_zero_point, weight, bias, multiplier, shift,
                   zero_point, low, high, one)
    return codes.reshape(codes.shape[:2])


def add(a, a_zero_point, a_multiplier, a_shift, b, b_zero_point, b_multiplier, b_shift,
        zero_point, multiplier, shift, low, high, left_shift):
    """Codes of a + b, uint8 arrays of one shape on the device (reference/int8.py's add)."""
    cupy = array_module(a)
    a, b = cupy.ascontiguousarray(a), cupy.ascontiguousarray(b)
    out = cupy.empty(a.shape, numpy.uint8)
    launch(get_kernel("int8", "int8_add"), a.size, a, b, out, int64(a.size),
           *(int32(v) for v in (a_zero_point, a_multiplier, a_shift, b_zero_point, b_multiplier,
                                b_shift, zero_point, multiplier, shift, low, high, left_shift)))
    return out
