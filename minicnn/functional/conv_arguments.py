"""Argument checking for the convolutions of conv.py: from PyTorch's arguments to a ConvGeometry.

Every message names the op, the argument, what was expected and what was received, e.g.
`conv2d: input has 3 channels but weight expects 1 (input (8, 3, 32, 32), weight (6, 1, 5, 5))`.
"""
import numbers

from ..cpu_kernels.conv_geometry import ConvGeometry, correlation_size


def conv_geometry(op, x, w, bias, stride, padding, dilation, groups, spatial):
    """The geometry of conv1d (spatial=1, as an image of height 1) or conv2d (spatial=2)."""
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


def transposed_conv_geometry(op, x, w, bias, stride, padding, output_padding, groups, dilation):
    """The geometry of the correlation whose adjoint conv_transpose2d computes: its input is
    the transposed convolution's output, (H - 1) s - 2 p + d (k - 1) + output_padding + 1 per axis."""
    _check_ranks(op, x, w, 2)
    stride, dilation = _pair(op, "stride", stride, 1), _pair(op, "dilation", dilation, 1)
    padding, output_padding = _pair(op, "padding", padding, 0), _pair(op, "output_padding", output_padding, 0)
    groups = _check_groups(op, groups, x.shape[1], w.shape[0], x, w)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"{op}: input has {x.shape[1]} channels but weight expects "
                         f"{w.shape[0]} (input {x.shape}, weight {w.shape})")
    for extra, s, d in zip(output_padding, stride, dilation):
        if extra >= max(s, d):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either "
                             f"stride {stride} or dilation {dilation}")
    kernel, in_size = tuple(w.shape[2:]), tuple(x.shape[2:])
    out_size = tuple((size - 1) * s - 2 * p + d * (k - 1) + extra + 1 for size, s, p, d, k, extra
                     in zip(in_size, stride, padding, dilation, kernel, output_padding))
    if min(out_size) < 1:
        raise ValueError(f"{op}: the output would have size {out_size} (input {x.shape}, "
                         f"weight {w.shape}, stride {stride}, padding {padding})")
    _check_bias(op, bias, w.shape[1] * groups)
    return ConvGeometry(out_size, in_size, kernel, stride, tuple((p, p) for p in padding),
                        dilation, groups)


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
