"""Observers (quantization/observers.py): PyTorch's scale and zero point, bit for bit."""
import warnings

import numpy
import pytest
from hypothesis import assume, given, settings, strategies as st

from minicnn.quantization import observers


@pytest.fixture
def tq(torch):
    warnings.filterwarnings("ignore", message=".*(deprecated|reduce_range|quant_min).*")
    import torch.ao.quantization as quantization
    return torch, quantization


def test_min_max_example_from_the_issue():
    observer = observers.MinMaxObserver()
    observer(numpy.array([-1, 0.5, 3], numpy.float32))
    scale, zero_point = observer.calculate_qparams()
    # (3 - (-1)) / 255 = 0.0156862..., 0 - round(-1 / scale) = 64
    assert scale == numpy.float32(4 / 255) and zero_point == 64


# Custom ranges: (quint8 range, qint8 range); PyTorch requires them to include 0.
SETTINGS = st.tuples(st.sampled_from(["quint8", "qint8"]), st.sampled_from(["affine", "symmetric"]),
                     st.booleans(), st.sampled_from([None, ((0, 15), (-8, 7)), ((0, 100), (-20, 9))]))


def _observe_both(torch, setting, pairs, batches, **extra):
    """Feed `batches` to our observer and PyTorch's of each pair, built with the same setting;
    returns [((our scale, our zero point), (theirs...))] as NumPy values."""
    dtype, scheme, reduce_range, custom = setting
    assume(not (scheme == "symmetric" and reduce_range and dtype == "quint8"))
    kind = "per_channel" if "ch_axis" in extra else "per_tensor"
    options = dict(reduce_range=reduce_range, **extra)
    if custom:
        options["quant_min"], options["quant_max"] = custom[0] if dtype == "quint8" else custom[1]
    results = []
    for ours_class, their_class in pairs:
        ours = ours_class(dtype=dtype, qscheme=scheme, **options)
        theirs = their_class(dtype=getattr(torch, dtype), qscheme=getattr(torch, f"{kind}_{scheme}"), **options)
        for batch in batches:
            ours(batch)
            theirs(torch.tensor(batch))
        assert (ours.quant_min, ours.quant_max) == (theirs.quant_min, theirs.quant_max)
        their_scale, their_zero_point = theirs.calculate_qparams()
        results.append((ours.calculate_qparams(), (their_scale.numpy(), their_zero_point.numpy())))
    return results


@settings(max_examples=8)
@given(setting=SETTINGS, seed=st.integers(0, 2 ** 16))
def test_per_tensor_observers_equal_torch(tq, setting, seed):
    torch, quantization = tq
    rng = numpy.random.default_rng(seed)
    batches = [(rng.standard_normal(int(rng.integers(1, 40))) * rng.uniform(0.01, 10)
                + rng.uniform(-5, 5)).astype(numpy.float32) for _ in range(3)]
    pairs = ((observers.MinMaxObserver, quantization.MinMaxObserver),
             (observers.MovingAverageMinMaxObserver, quantization.MovingAverageMinMaxObserver))
    for (scale, zero_point), (their_scale, their_zero_point) in _observe_both(torch, setting, pairs, batches):
        assert numpy.float32(scale) == their_scale[0] and zero_point == their_zero_point[0]


@settings(max_examples=8)
@given(setting=SETTINGS, seed=st.integers(0, 2 ** 16), axis=st.integers(0, 2))
def test_per_channel_observers_equal_torch(tq, setting, seed, axis):
    torch, quantization = tq
    rng = numpy.random.default_rng(seed)
    batches = [(rng.standard_normal((4, 3, 2)) * rng.uniform(0.01, 3, (4, 1, 1))).astype(numpy.float32)
               for _ in range(2)]
    pairs = ((observers.PerChannelMinMaxObserver, quantization.PerChannelMinMaxObserver),
             (observers.MovingAveragePerChannelMinMaxObserver,
              quantization.MovingAveragePerChannelMinMaxObserver))
    for ours, theirs in _observe_both(torch, setting, pairs, batches, ch_axis=axis):
        numpy.testing.assert_array_equal(ours[0], theirs[0])
        numpy.testing.assert_array_equal(ours[1], theirs[1])


def test_constant_zero_input_gets_the_eps_scale(tq):
    torch, quantization = tq
    ours, theirs = observers.MinMaxObserver(), quantization.MinMaxObserver()
    ours(numpy.zeros(5, numpy.float32))
    theirs(torch.zeros(5))
    assert ours.calculate_qparams() == (numpy.finfo(numpy.float32).eps, 0)
    assert theirs.calculate_qparams()[0].item() == numpy.finfo(numpy.float32).eps
    constant = observers.MinMaxObserver()
    constant(numpy.full(4, 2.0, numpy.float32))         # [0, 2]: zero is always in the range
    assert constant.calculate_qparams() == (numpy.float32(2 / 255), 0)


def test_errors():
    with pytest.raises(observers.NoObservationsError, match="has seen no data"):
        observers.MinMaxObserver().calculate_qparams()
    with pytest.raises(ValueError, match="MinMaxObserver: the observed tensor .* holds NaN"):
        observers.MinMaxObserver()(numpy.array([1.0, numpy.nan], numpy.float32))
    with pytest.raises(ValueError, match="reduce_range is not supported for symmetric quint8"):
        observers.MinMaxObserver(qscheme="symmetric", reduce_range=True)
    with pytest.raises(ValueError, match=r"need -128 <= quant_min <= 0 <= quant_max <= 127"):
        observers.MinMaxObserver(dtype="qint8", quant_min=0, quant_max=255)
    with pytest.raises(ValueError, match=r"got quant_min=2, quant_max=9"):
        observers.MinMaxObserver(quant_min=2, quant_max=9)
    with pytest.raises(ValueError, match="PerChannelMinMaxObserver: saw 3 channels before, now 2"):
        observer = observers.PerChannelMinMaxObserver()
        observer(numpy.ones((3, 2), numpy.float32))
        observer(numpy.ones((2, 2), numpy.float32))
