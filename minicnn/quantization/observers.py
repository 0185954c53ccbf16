"""Observers: watch the tensors that flow past and choose a scale and zero point for them.

An observer passes its input through unchanged and remembers its range [min, max] (one
range per tensor, or one per channel). From the range it computes the quantization
parameters with PyTorch's arithmetic (torch.ao.quantization.observer), in float32, so the
numbers are the same bit for bit. With [lo, hi] = [min(min, 0), max(max, 0)] (zero must be
exactly representable: zero padding and ReLU rely on it):

    affine      scale = (hi - lo) / (quant_max - quant_min)
                zero_point = clamp(quant_min - round(lo / scale), quant_min, quant_max)
    symmetric   scale = max(-lo, hi) / ((quant_max - quant_min) / 2)
                zero_point = 0 (qint8), or 128 (quint8; the middle of a custom range)

and scale is at least float32's eps (2^-23), so a tensor that was only ever zero still gets
a usable scale (PyTorch's rule). quint8 codes are 0..255 and qint8 -128..127; reduce_range
halves either (PyTorch's fbgemm setting, which keeps its 16-bit sums from saturating; the
integer kernels here do not need it).

    MinMaxObserver                   the running min and max of everything seen
    MovingAverageMinMaxObserver      min and max as moving averages (for training)
    PerChannelMinMaxObserver         one range per index of `ch_axis` (weights)
    MovingAveragePerChannelMinMaxObserver

No HistogramObserver: PyTorch's keeps a 2048-bin histogram that it re-bins whenever the
range grows and then searches greedily for the clipping range of least estimated L2 error;
matching it bit for bit means transcribing that bookkeeping, whose output has changed
between PyTorch releases. On the models here min/max ranges already keep int8 accuracy
within 0.1 points of float (benchmarks/README.md), so clipping had nothing to win.
"""
import numpy

from ..autograd import Tensor
from ..backend import to_numpy
from ..functional.quantized import QUANTIZED_DTYPES
from ..nn import Module

EPS = numpy.finfo(numpy.float32).eps
SCHEMES = ("affine", "symmetric")


class NoObservationsError(RuntimeError):
    """An observer was asked for quantization parameters before it saw any data."""


class ObserverBase(Module):
    """What every observer shares: the code range and scheme, forward (observe and pass the
    input on), and calculate_qparams from the (per-channel) range."""
    per_channel = False

    def __init__(self, dtype="quint8", qscheme="affine", reduce_range=False, quant_min=None,
                 quant_max=None, eps=EPS):
        super().__init__()
        name = type(self).__name__
        if dtype not in QUANTIZED_DTYPES:
            raise ValueError(f"{name}: dtype must be 'quint8' or 'qint8', got {dtype!r}")
        if qscheme not in SCHEMES:
            raise ValueError(f"{name}: qscheme must be 'affine' or 'symmetric', got {qscheme!r}")
        if qscheme == "symmetric" and reduce_range and dtype == "quint8":
            raise ValueError(f"{name}: reduce_range is not supported for symmetric quint8 "
                             "(PyTorch refuses it too)")
        self.dtype, self.qscheme, self.reduce_range = dtype, qscheme, reduce_range
        self.eps = numpy.float32(eps)
        self.custom_range = quant_min is not None or quant_max is not None
        self.quant_min, self.quant_max = _code_range(name, dtype, reduce_range, quant_min, quant_max)
        self.min_val = self.max_val = None

    def forward(self, x):
        array = to_numpy(x.data if isinstance(x, Tensor) else x).astype(numpy.float32, copy=False)
        if array.size:
            low, high = self._batch_range(array)
            if not (numpy.isfinite(low).all() and numpy.isfinite(high).all()):
                raise ValueError(f"{type(self).__name__}: the observed tensor (shape "
                                 f"{array.shape}) holds NaN or infinite values")
            self._update(low, high)
        return x

    def _batch_range(self, array):
        return numpy.float32(array.min()), numpy.float32(array.max())

    def _update(self, low, high):
        if self.min_val is None:
            self.min_val, self.max_val = low, high
        else:
            self.min_val, self.max_val = numpy.minimum(self.min_val, low), numpy.maximum(self.max_val, high)

    @property
    def observed(self):
        return self.min_val is not None

    def calculate_qparams(self):
        """(scale, zero_point): float32 and int64, numbers per tensor or arrays per channel."""
        if not self.observed:
            raise NoObservationsError(f"{type(self).__name__}.calculate_qparams: the observer "
                                      "has seen no data; run calibration batches through the "
                                      "prepared model first")
        quant_min, quant_max = self.quant_min, self.quant_max
        low = numpy.minimum(self.min_val, numpy.float32(0))
        high = numpy.maximum(self.max_val, numpy.float32(0))
        if self.qscheme == "symmetric":
            scale = numpy.maximum(numpy.maximum(-low, high) / numpy.float32((quant_max - quant_min) / 2),
                                  self.eps)
            middle = (quant_min + quant_max) // 2 if self.custom_range else 128
            zero_point = numpy.full(numpy.shape(scale), middle if self.dtype == "quint8" else 0,
                                    numpy.int64)
        else:
            scale = numpy.maximum((high - low) / numpy.float32(quant_max - quant_min), self.eps)
            zero_point = quant_min - numpy.round(low / scale).astype(numpy.int64)
            zero_point = numpy.clip(zero_point, quant_min, quant_max)
        if not self.per_channel:
            return numpy.float32(scale), int(zero_point)
        return scale.astype(numpy.float32), zero_point.astype(numpy.int64)

    def extra_repr(self):
        seen = (f"min_val={self.min_val}, max_val={self.max_val}" if self.observed
                else "nothing observed")
        return f"{self.dtype}, {self.qscheme}, range [{self.quant_min}, {self.quant_max}], {seen}"


class MinMaxObserver(ObserverBase):
    """The smallest and largest value seen over all batches."""


class MovingAverageMinMaxObserver(ObserverBase):
    """min and max as exponential moving averages over batches,
    min <- min + averaging_constant * (batch_min - min) (the first batch sets them), so that
    a few outlying batches late in training move the range little."""

    def __init__(self, averaging_constant=0.01, **options):
        super().__init__(**options)
        self.averaging_constant = averaging_constant

    def _update(self, low, high):
        if self.min_val is None:
            self.min_val, self.max_val = low, high
        else:
            constant = numpy.float32(self.averaging_constant)
            self.min_val = self.min_val + constant * (low - self.min_val)
            self.max_val = self.max_val + constant * (high - self.max_val)


class PerChannelMinMaxObserver(ObserverBase):
    """One range per index of dimension `ch_axis` (the output channels of a weight), over all
    the other dimensions. Default: qint8, symmetric (PyTorch's per-channel weight default)."""
    per_channel = True

    def __init__(self, ch_axis=0, dtype="qint8", qscheme="symmetric", **options):
        super().__init__(dtype=dtype, qscheme=qscheme, **options)
        self.ch_axis = ch_axis

    def _batch_range(self, array):
        if not -array.ndim <= self.ch_axis < array.ndim:
            raise ValueError(f"{type(self).__name__}: ch_axis={self.ch_axis} is not a "
                             f"dimension of the observed tensor (shape {array.shape})")
        rows = numpy.moveaxis(array, self.ch_axis, 0).reshape(array.shape[self.ch_axis], -1)
        if self.min_val is not None and self.min_val.shape != (rows.shape[0],):
            raise ValueError(f"{type(self).__name__}: saw {self.min_val.shape[0]} channels "
                             f"before, now {rows.shape[0]} (shape {array.shape})")
        return rows.min(axis=1), rows.max(axis=1)


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """Per-channel ranges as moving averages (PyTorch's QAT weight observer)."""
    _update = MovingAverageMinMaxObserver._update

    def __init__(self, averaging_constant=0.01, **options):
        super().__init__(**options)
        self.averaging_constant = averaging_constant


def _code_range(name, dtype, reduce_range, quant_min, quant_max):
    """PyTorch's _calculate_qmin_qmax: the dtype's range, or the custom [quant_min, quant_max]
    (which must lie inside it), halved by reduce_range."""
    _, lowest, highest = QUANTIZED_DTYPES[dtype]
    if quant_min is not None or quant_max is not None:
        if quant_min is None or quant_max is None:
            raise ValueError(f"{name}: give both quant_min and quant_max, got {quant_min}, {quant_max}")
        if not lowest <= quant_min < quant_max <= highest or not quant_min <= 0 <= quant_max:
            raise ValueError(f"{name}: need {lowest} <= quant_min <= 0 <= quant_max <= {highest}, "
                             f"quant_min < quant_max for {dtype}, got quant_min={quant_min}, "
                             f"quant_max={quant_max}")
        lowest, highest = quant_min, quant_max
    if reduce_range:
        lowest, highest = lowest // 2, highest // 2
    return int(lowest), int(highest)
