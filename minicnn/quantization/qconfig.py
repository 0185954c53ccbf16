"""QConfig: which observers (PTQ) or fake quantizers (QAT) a layer gets, for its output
(`activation`) and for its weight (`weight`). Each is a factory called once per layer.

    default_qconfig       per-channel symmetric qint8 weights, per-tensor affine quint8
                          activations, min/max ranges (PyTorch's fbgemm default, without its
                          reduce_range, which only PyTorch's 16-bit sums need)
    per_tensor_qconfig    one symmetric scale for a whole weight instead of one per channel
    default_qat_qconfig   the same grids as fake quantizers with moving-average ranges
    get_qconfig(per_channel, qat, bits)   any of these, at 2 to 8 bits
"""
from collections import namedtuple
from functools import partial

from .fake_quantize import FakeQuantize
from .observers import (MinMaxObserver, MovingAverageMinMaxObserver,
                        MovingAveragePerChannelMinMaxObserver, PerChannelMinMaxObserver)

QConfig = namedtuple("QConfig", ["activation", "weight"])


def get_qconfig(per_channel=True, qat=False, bits=8):
    """Activations: quint8 codes 0 .. 2^bits - 1, affine. Weights: qint8 codes
    -2^(bits - 1) .. 2^(bits - 1) - 1, symmetric, per channel (axis 0) or per tensor."""
    if not isinstance(bits, int) or not 2 <= bits <= 8:
        raise ValueError(f"get_qconfig: bits must be an integer from 2 to 8, got {bits!r}")
    narrow = {} if bits == 8 else {"quant_min": 0, "quant_max": 2 ** bits - 1}
    narrow_weight = {} if bits == 8 else {"quant_min": -2 ** (bits - 1), "quant_max": 2 ** (bits - 1) - 1}
    activation_options = dict(dtype="quint8", qscheme="affine", **narrow)
    weight_options = dict(dtype="qint8", qscheme="symmetric", **narrow_weight)
    if per_channel:
        weight_options["ch_axis"] = 0
    if qat:
        return QConfig(
            activation=partial(FakeQuantize, MovingAverageMinMaxObserver, **activation_options),
            weight=partial(FakeQuantize, MovingAveragePerChannelMinMaxObserver if per_channel
                           else MovingAverageMinMaxObserver, **weight_options))
    return QConfig(activation=partial(MinMaxObserver, **activation_options),
                   weight=partial(PerChannelMinMaxObserver if per_channel else MinMaxObserver,
                                  **weight_options))


default_qconfig = get_qconfig()
per_tensor_qconfig = get_qconfig(per_channel=False)
default_qat_qconfig = get_qconfig(qat=True)
