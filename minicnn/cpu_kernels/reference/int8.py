"""Integer arithmetic of a quantized network, in plain NumPy: the twin of cpu_kernels/int8.py.

A quantized tensor holds integer codes q that stand for the real numbers

    r = scale * (q - zero_point).

Activations are uint8 codes with one scale and zero point per tensor; weights are int8
codes with a scale and a zero point per output channel. With the integers
a = x_code - x_zero_point and b[o] = w_code[o] - w_zero_point[o], a convolution or linear
layer computes

    y_real[o] = x_scale * w_scale[o] * (acc[o] + bias_int32[o]),   acc[o] = sum_k a_k b[o, k]
    y_code[o] = y_zero_point + M[o] * (acc[o] + bias_int32[o]),    M[o] = x_scale w_scale[o] / y_scale

where bias_int32 = round(bias / (x_scale w_scale)). The sum of products is exact in int32
(|a b| < 2^16, so 2^15 terms fit). The real factor M is applied without floats, as
gemmlowp and TensorFlow Lite do: M = m * 2^(shift - 31) with an integer m in [2^30, 2^31)
(functional/quantized.py's quantize_multiplier finds m and shift), and y = acc * M is a
64-bit integer product, a rounding division by 2^31 and a rounding division by 2^-shift.
Everything here works on whole arrays in int64, so that no step can overflow unseen.
"""
import numpy

INT32_MIN, INT32_MAX = -2 ** 31, 2 ** 31 - 1


def rounding_doubling_high_mul(a, b):
    """round(a * b / 2^31) for int32 a and b, halves away from zero, as gemmlowp's
    SaturatingRoundingDoublingHighMul: (a b + nudge) / 2^31 with C's division, which
    truncates toward zero. The one product that overflows, (-2^31)^2 / 2^31, gives INT32_MAX."""
    a, b = numpy.asarray(a, numpy.int64), numpy.asarray(b, numpy.int64)
    product = a * b
    nudge = numpy.where(product >= 0, 1 << 30, 1 - (1 << 30))
    total = product + nudge
    quotient = numpy.where(total >= 0, total >> 31, -((-total) >> 31))   # truncation toward 0
    return numpy.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, quotient)


def rounding_divide_by_power_of_two(x, exponent):
    """round(x / 2^exponent), halves away from zero (gemmlowp's RoundingDivideByPOT):
    the floor given by the arithmetic shift, plus one when the remainder is past half."""
    x, exponent = numpy.asarray(x, numpy.int64), numpy.asarray(exponent, numpy.int64)
    mask = (numpy.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """round(x * multiplier * 2^(shift - 31)): TensorFlow Lite's MultiplyByQuantizedMultiplier.

    A positive shift is a left shift before the product (saturated to int32 here, where
    TFLite would overflow), a negative one a rounding right shift after it.
    """
    shift = numpy.asarray(shift, numpy.int64)
    left, right = numpy.maximum(shift, 0), numpy.maximum(-shift, 0)
    shifted = numpy.clip(numpy.asarray(x, numpy.int64) << left, INT32_MIN, INT32_MAX)
    return rounding_divide_by_power_of_two(rounding_doubling_high_mul(shifted, multiplier), right)


def requantize(acc, multiplier, shift, zero_point, quant_min, quant_max):
    """Output codes clamp(zero_point + acc * M, quant_min, quant_max) from int32
    accumulators; multiplier and shift broadcast against acc (one per channel)."""
    codes = multiply_by_quantized_multiplier(acc, multiplier, shift) + zero_point
    return numpy.clip(codes, quant_min, quant_max).astype(_code_dtype(quant_min))


def conv2d_accumulators(x_codes, x_zero_point, w_codes, w_zero_point, stride, padding, dilation):
    """acc[n, o, oh, ow] = sum_{c, i, j} a[n, c, oh s + i d, ow s + j d] * b[o, c, i, j], int32.

    x_codes (N, C, H, W) uint8, w_codes (O, C, kh, kw) int8, w_zero_point (O,); the padding
    is real zeros, which is a = 0. One einsum per kernel tap (i, j), as cpu_kernels'
    convolution references do.
    """
    a = x_codes.astype(numpy.int32) - numpy.int32(x_zero_point)
    b = w_codes.astype(numpy.int32) - numpy.asarray(w_zero_point, numpy.int32).reshape(-1, 1, 1, 1)
    (stride_h, stride_w), (pad_h, pad_w), (dilation_h, dilation_w) = stride, padding, dilation
    a = numpy.pad(a, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)))
    kernel_h, kernel_w = b.shape[2:]
    out_h = (a.shape[2] - dilation_h * (kernel_h - 1) - 1) // stride_h + 1
    out_w = (a.shape[3] - dilation_w * (kernel_w - 1) - 1) // stride_w + 1
    acc = numpy.zeros((a.shape[0], b.shape[0], out_h, out_w), numpy.int32)
    for i in range(kernel_h):
        for j in range(kernel_w):
            top, left = i * dilation_h, j * dilation_w
            window = a[:, :, top:top + stride_h * (out_h - 1) + 1:stride_h,
                       left:left + stride_w * (out_w - 1) + 1:stride_w]
            acc += numpy.einsum("nchw,oc->nohw", window, b[:, :, i, j])
    return acc


def conv2d(x_codes, x_zero_point, w_codes, w_zero_point, bias_int32, multiplier, shift,
           out_zero_point, quant_min, quant_max, stride, padding, dilation):
    """Output codes (N, O, out_h, out_w) of a quantized convolution; per-channel arrays
    (O,) for w_zero_point, bias_int32, multiplier and shift."""
    acc = conv2d_accumulators(x_codes, x_zero_point, w_codes, w_zero_point, stride, padding,
                              dilation)
    channel = (1, -1, 1, 1)
    return requantize(acc + numpy.reshape(bias_int32, channel), numpy.reshape(multiplier, channel),
                      numpy.reshape(shift, channel), out_zero_point, quant_min, quant_max)


def linear(x_codes, x_zero_point, w_codes, w_zero_point, bias_int32, multiplier, shift,
           out_zero_point, quant_min, quant_max):
    """Output codes (N, O) of a quantized linear layer: x_codes (N, K), w_codes (O, K)."""
    a = x_codes.astype(numpy.int32) - numpy.int32(x_zero_point)
    b = w_codes.astype(numpy.int32) - numpy.asarray(w_zero_point, numpy.int32).reshape(-1, 1)
    acc = a @ b.T + bias_int32
    return requantize(acc, multiplier, shift, out_zero_point, quant_min, quant_max)


# TensorFlow Lite's quantized ADD shifts the inputs 20 bits left before scaling them, so
# that the rescaled inputs keep 20 fractional bits when they are added.
ADD_LEFT_SHIFT = 20


def add(a_codes, a_zero_point, a_multiplier, a_shift, b_codes, b_zero_point, b_multiplier,
        b_shift, out_zero_point, out_multiplier, out_shift, quant_min, quant_max):
    """Codes of a + b for two quantized tensors of different scales (TensorFlow Lite's ADD):

        sum = ((a - a_zero_point) << 20) * M_a + ((b - b_zero_point) << 20) * M_b
        out = out_zero_point + sum * M_out,

    with M_a = a_scale / (2 max(a_scale, b_scale)), M_b likewise (both at most 1/2, so the
    shifted values cannot overflow), and M_out = 2 max(a_scale, b_scale) / (2^20 out_scale).
    """
    scaled = [multiply_by_quantized_multiplier(
                  (codes.astype(numpy.int64) - zero_point) << ADD_LEFT_SHIFT, multiplier, shift)
              for codes, zero_point, multiplier, shift in ((a_codes, a_zero_point, a_multiplier, a_shift),
                                                         (b_codes, b_zero_point, b_multiplier, b_shift))]
    return requantize(scaled[0] + scaled[1], out_multiplier, out_shift, out_zero_point,
                      quant_min, quant_max)


def _code_dtype(quant_min):
    return numpy.uint8 if quant_min >= 0 else numpy.int8
