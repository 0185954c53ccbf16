"""A convolution layer's three products, as their definitions: a loop over the kernel window.

For a window tap (i, j), output pixel (oh, ow) reads the padded input at

    h = oh * stride_h + i * dilation_h,     w = ow * stride_w + j * dilation_w

(conv_geometry.py), so the input pixels that tap (i, j) sees, for all outputs at once, are
one strided slice of the padded input, `_tap` below. Each product is then a sum over the
taps of one einsum, which sums over the channels:

    forward      y[n, o]          += sum_c  w[o, c, i, j]  x_tap[n, c]
    input grad   gx_tap[n, c]     += sum_o  w[o, c, i, j]  gy[n, o]
    weight grad  gw[o, c, i, j]    = sum_{n, oh, ow} gy[n, o] x_tap[n, c]

With groups G, channels are cut into G blocks and group g's outputs read only group g's
inputs: every array gets a group axis g, which the einsums carry along.
This is what im2col.py, conv_numba.py, winograd.py and gpu_kernels/conv.py compute,
without threads or Numba; the tests compare them with these functions.
"""
from ...backend import array_module


def forward(x, weight, geometry, bias=None):
    """y[n, o, oh, ow] = bias[o] + sum_{c, i, j} w[o, c, i, j] x_padded[n, g C/G + c, oh s_h + i d_h, ow s_w + j d_w],
    g the group of output channel o.

    x (N, C, H, W), weight (O, C / G, kh, kw), bias (O,) or None -> y (N, O, out_h, out_w).
    """
    xp, groups = array_module(x), geometry.groups
    padded = _grouped(xp.pad(x, ((0, 0), (0, 0)) + geometry.padding), groups)
    w = _grouped(weight[None], groups)[0]                          # (G, O/G, C/G, kh, kw)
    y = xp.zeros((x.shape[0], groups, w.shape[1]) + geometry.out_size, dtype=x.dtype)
    for i, j in _taps(geometry):
        y += xp.einsum("ngchw,goc->ngohw", _tap(padded, i, j, geometry), w[..., i, j])
    return _plus_channel_bias(y.reshape((x.shape[0], weight.shape[0]) + geometry.out_size), bias)


def input_grad(gy, weight, geometry, bias=None):
    """gx[n, g C/G + c, h, w] = bias[c] + sum over (o, i, j) and the outputs (oh, ow) that read
    pixel (h, w) at tap (i, j) of w[o, c, i, j] gy[n, o, oh, ow]: the adjoint of forward,
    each output gradient spread back over its window (a transposed convolution).

    gy (N, O, out_h, out_w), weight (O, C / G, kh, kw), bias (C,) or None -> gx (N, C, H, W).
    """
    xp, groups = array_module(gy), geometry.groups
    batch, channels = gy.shape[0], weight.shape[1] * groups
    g = _grouped(gy, groups)                                       # (N, G, O/G, out_h, out_w)
    w = _grouped(weight[None], groups)[0]
    padded = xp.zeros((batch, groups, weight.shape[1]) + geometry.padded_size, dtype=gy.dtype)
    for i, j in _taps(geometry):
        _tap(padded, i, j, geometry)[...] += xp.einsum("ngohw,goc->ngchw", g, w[..., i, j])
    (top, _), (left, _) = geometry.padding
    (height, width) = geometry.in_size
    gx = padded.reshape((batch, channels) + geometry.padded_size)[:, :, top:top + height, left:left + width]
    return _plus_channel_bias(xp.ascontiguousarray(gx), bias)


def weight_grad(x, gy, geometry):
    """gw[o, c, i, j] = sum_{n, oh, ow} gy[n, o, oh, ow] x_padded[n, g C/G + c, oh s_h + i d_h, ow s_w + j d_w]:
    for each tap, the correlation of the input it saw with the output gradient.

    x (N, C, H, W), gy (N, O, out_h, out_w) -> gw (O, C / G, kh, kw).
    """
    xp, groups = array_module(x), geometry.groups
    padded = _grouped(xp.pad(x, ((0, 0), (0, 0)) + geometry.padding), groups)
    g = _grouped(gy, groups)
    gw = xp.zeros((groups, g.shape[2], padded.shape[2]) + geometry.kernel, dtype=x.dtype)
    for i, j in _taps(geometry):
        gw[..., i, j] = xp.einsum("ngohw,ngchw->goc", g, _tap(padded, i, j, geometry))
    return gw.reshape((gy.shape[1], x.shape[1] // groups) + geometry.kernel)


def _taps(geometry):
    """Every (i, j) of the kernel window, row by row."""
    kernel_h, kernel_w = geometry.kernel
    return [(i, j) for i in range(kernel_h) for j in range(kernel_w)]


def _tap(padded, i, j, geometry):
    """The pixels of `padded` (..., H_padded, W_padded) that tap (i, j) reads for every output
    pixel: a view (..., out_h, out_w), so that adding into it adds into `padded`."""
    (stride_h, stride_w), (dilation_h, dilation_w) = geometry.stride, geometry.dilation
    (out_h, out_w) = geometry.out_size
    rows = slice(i * dilation_h, i * dilation_h + (out_h - 1) * stride_h + 1, stride_h)
    columns = slice(j * dilation_w, j * dilation_w + (out_w - 1) * stride_w + 1, stride_w)
    return padded[..., rows, columns]


def _grouped(array, groups):
    """(N, K, ...) -> (N, G, K / G, ...): channel g K/G + k becomes [g, k]."""
    return array.reshape((array.shape[0], groups, array.shape[1] // groups) + array.shape[2:])


def _plus_channel_bias(array, bias):
    """array[:, k] + bias[k] (a new array), or array when there is no bias."""
    return array if bias is None else array + bias.reshape(1, -1, 1, 1).astype(array.dtype)
