"""pad: gradients over drawn amounts in every mode, second derivatives, PyTorch parity, errors."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
import minicnn.functional as F
from tests.helpers import assert_close, covers, leaf, to_torch

MODES = ["constant", "reflect", "replicate", "circular"]


@st.composite
def paddings(draw, mode):
    """(input shape, pad tuple) valid for `mode`; constant mode may crop with negatives."""
    dims = draw(st.integers(1, 3 if mode != "constant" else 4))
    lead = draw(st.sampled_from([(1,), (2, 1)] if mode != "constant" else [(), (2,)]))
    sizes = [draw(st.integers(1, 3)) for _ in range(dims)]
    if mode == "reflect":
        sizes = [size + 1 for size in sizes]      # reflect needs pad < size
    pad = []
    for size in reversed(sizes):                  # torch order: the last dim first
        low = -(size // 2) if mode == "constant" else 0
        high = {"reflect": size - 1, "circular": size}.get(mode, 2)
        pad += [draw(st.integers(low, high)), draw(st.integers(low, high))]
    return lead + tuple(sizes), tuple(pad)


def sample(shape, seed):
    return numpy.random.default_rng(seed).standard_normal(shape)


@covers("pad")
@pytest.mark.parametrize("mode", MODES)
@given(case=st.data(), seed=st.integers(0, 2**16))
def test_gradcheck(device, mode, case, seed):
    shape, pad = case.draw(paddings(mode))
    x = leaf(sample(shape, seed), device)
    minicnn.gradcheck(lambda x: F.pad(x, pad, mode=mode, value=0.5), (x,))


@pytest.mark.parametrize("mode,pad", [("constant", (1, -1, 2, 0)), ("reflect", (2, 1, 1, 2)),
                                      ("replicate", (2, 0, 3, 1)), ("circular", (1, 3, 0, 2))])
def test_gradgradcheck(device, mode, pad):
    x = leaf(sample((1, 2, 3, 4), 1), device)
    minicnn.gradgradcheck(lambda x: F.pad(x, pad, mode=mode), (x,))


@pytest.mark.parametrize("mode", MODES)
@given(case=st.data(), seed=st.integers(0, 2**16))
def test_matches_torch(device, torch, mode, case, seed):
    shape, pad = case.draw(paddings(mode))
    if mode != "constant" and len(pad) // 2 + 1 == len(shape):
        shape = (1,) + shape                     # torch wants a batch dim for 2-D reflect, ...
    x = leaf(sample(shape, seed), device)
    x_torch = to_torch(torch, x)
    extra = {"value": 1.25} if mode == "constant" else {}
    y = F.pad(x, pad, mode=mode, **extra)
    y_torch = torch.nn.functional.pad(x_torch, pad, mode=mode, **extra)
    upstream = sample(y_torch.shape, seed + 1)
    y.backward(minicnn.tensor(upstream, device=device))
    y_torch.backward(torch.tensor(upstream))
    assert_close(y, y_torch)
    assert_close(x.grad, x_torch.grad)


def test_modes_on_a_row(device):
    x = leaf(numpy.array([[[1.0, 2.0, 3.0]]]), device)
    expected = {"constant": [0, 0, 1, 2, 3, 0], "reflect": [3, 2, 1, 2, 3, 2],
                "replicate": [1, 1, 1, 2, 3, 3], "circular": [2, 3, 1, 2, 3, 1]}
    for mode, row in expected.items():
        numpy.testing.assert_array_equal(F.pad(x, (2, 1), mode=mode).numpy()[0, 0], row)
    numpy.testing.assert_array_equal(F.pad(x, (-1, 0)).numpy()[0, 0], [2, 3])


def test_float32_stays_float32(device):
    x = leaf(sample((1, 2, 3, 3), 0), device, dtype=numpy.float32)
    assert F.pad(x, (1, 1, 1, 1), value=2.0).dtype == numpy.float32
    assert F.pad(x, (1, 1, 1, 1), mode="reflect").dtype == numpy.float32


@pytest.mark.parametrize("pad,mode,message", [
    ((1, 1), "wrap",
     r"pad: mode must be one of constant, reflect, replicate, circular, got 'wrap'"),
    ((1, 1, 1), "constant", r"pad: pad must be an even number of ints"),
    ((1,) * 10, "constant",
     r"pad: pad \(1, 1, 1, 1, 1, 1, 1, 1, 1, 1\) pads 5 dims but the input has only 4"),
    ((-3, 0), "constant", r"pad: padding \(-3, 0\) would leave a negative size from 2"),
    ((1, 1), "reflect",
     r"pad: mode 'reflect' pads the last 1, 2 or 3 dims .* got pad \(1, 1\) for input shape \(1, 2, 2, 2\)"),
    ((2, 0, 0, 0), "reflect",
     r"pad: 'reflect' padding \(2, 0\) of dim 3 must be at most 1 for its size 2"),
    ((0, 3, 0, 0), "circular", r"pad: 'circular' padding \(0, 3\) of dim 3 must be at most 2"),
    ((-1, 0, 0, 0), "replicate", r"pad: negative padding is only supported in 'constant' mode"),
])
def test_bad_arguments_are_named(pad, mode, message):
    with pytest.raises(ValueError, match=message):
        F.pad(leaf(sample((1, 2, 2, 2), 0)), pad, mode=mode)
