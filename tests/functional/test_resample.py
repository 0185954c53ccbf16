"""interpolate: gradients over drawn sizes and scales, second derivatives, PyTorch parity
(coordinates included: float32 nearest indices, align_corners, the doubling shortcut), errors."""
import math

import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minicnn
import minicnn.functional as F
from tests.helpers import assert_close, covers, leaf, to_torch

# (mode, spatial dims, align_corners values)
MODES = [("nearest", 1, [None]), ("nearest", 2, [None]), ("nearest", 3, [None]),
         ("linear", 1, [False, True]), ("bilinear", 2, [False, True]),
         ("trilinear", 3, [False, True])]
IDS = [f"{mode}-{spatial}d" for mode, spatial, _ in MODES]


@st.composite
def resizes(draw, spatial, largest=4):
    """(input shape, keyword arguments) with either a size or a scale_factor."""
    sizes = tuple(draw(st.integers(1, largest)) for _ in range(spatial))
    if draw(st.booleans()):
        return (1, 2) + sizes, {"size": tuple(draw(st.integers(1, largest + 2)) for _ in sizes)}
    scales = tuple(draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.3, 3.0])) for _ in sizes)
    scales = tuple(max(s, 1.0 / n) for s, n in zip(scales, sizes))     # at least 1 output
    return (1, 2) + sizes, {"scale_factor": scales}


def sample(shape, seed):
    return numpy.random.default_rng(seed).standard_normal(shape)


@covers("interpolate")
@pytest.mark.parametrize("mode,spatial,corners", MODES, ids=IDS)
@given(case=st.data(), seed=st.integers(0, 2**16))
def test_gradcheck(device, mode, spatial, corners, case, seed):
    shape, arguments = case.draw(resizes(spatial, largest=4 if spatial < 3 else 2))
    align = case.draw(st.sampled_from(corners))
    minicnn.gradcheck(lambda x: F.interpolate(x, mode=mode, align_corners=align, **arguments),
                      (leaf(sample(shape, seed), device),))


@pytest.mark.parametrize("mode,align", [("nearest", None), ("bilinear", False), ("bilinear", True)])
def test_gradgradcheck(device, mode, align):
    minicnn.gradgradcheck(lambda x: F.interpolate(x, size=(5, 2), mode=mode, align_corners=align),
                          (leaf(sample((1, 2, 3, 3), 1), device),))


@pytest.mark.parametrize("mode,spatial,corners", MODES, ids=IDS)
@given(case=st.data(), seed=st.integers(0, 2**16))
def test_matches_torch(device, torch, mode, spatial, corners, case, seed):
    shape, arguments = case.draw(resizes(spatial, largest=7 if spatial < 3 else 3))
    align = case.draw(st.sampled_from(corners))
    if mode == "nearest" and spatial != 2 and "scale_factor" in arguments:
        # PyTorch's 1-d and 3-d nearest backward takes the 2-d kernel's shortcuts (copy an
        # unchanged dim, o // 2 for a doubling) that its forward does not, so there its
        # gradient is not the adjoint of its forward; ours is (gradcheck above).
        assume(all(math.floor(n * s) not in (n, 2 * n) or s in (1.0, 2.0)
                   for n, s in zip(shape[2:], arguments["scale_factor"])))
    x = leaf(sample(shape, seed), device)
    x_torch = to_torch(torch, x)
    y = F.interpolate(x, mode=mode, align_corners=align, **arguments)
    y_torch = torch.nn.functional.interpolate(x_torch, mode=mode, align_corners=align, **arguments)
    upstream = sample(y_torch.shape, seed + 1)
    y.backward(minicnn.tensor(upstream, device=device))
    y_torch.backward(torch.tensor(upstream))
    assert_close(y, y_torch, rtol=1e-12, atol=1e-14)
    assert_close(x.grad, x_torch.grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("in_size,arguments", [
    (3, {"scale_factor": 2.2}),         # doubling: 2-d takes o // 2, 1-d and 3-d use the scale
    (4, {"scale_factor": 1.2}),         # unchanged: 2-d copies, 1-d and 3-d use the scale
    (10, {"size": 7}), (7, {"size": 3}), (13, {"scale_factor": 0.37}),
])
def test_nearest_indices_match_torch(torch, spatial, in_size, arguments):
    x = leaf(numpy.arange(float(in_size)).reshape((1, 1) + (1,) * (spatial - 1) + (in_size,)))
    if "scale_factor" in arguments:
        arguments = {"scale_factor": (1.0,) * (spatial - 1) + (arguments["scale_factor"],)}
    expected = torch.nn.functional.interpolate(to_torch(torch, x), **arguments)
    numpy.testing.assert_array_equal(F.interpolate(x, **arguments).numpy(),
                                     expected.detach().numpy())


def test_bilinear_upsampling_of_a_ramp_is_a_ramp(device):
    """align_corners=True keeps the corner values and interpolates exactly between them."""
    x = leaf(numpy.array([[[[0.0, 3.0], [6.0, 9.0]]]]), device)
    y = F.interpolate(x, size=(3, 4), mode="bilinear", align_corners=True).numpy()[0, 0]
    numpy.testing.assert_allclose(y, [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])


def test_float32_stays_float32(device, torch):
    x = leaf(sample((2, 3, 4, 5), 0), device, dtype=numpy.float32)
    y = F.interpolate(x, scale_factor=1.5, mode="bilinear")
    assert y.dtype == numpy.float32
    assert_close(y, torch.nn.functional.interpolate(to_torch(torch, x), scale_factor=1.5,
                                                    mode="bilinear"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape,arguments,message", [
    ((1, 1, 4, 4), {"size": 8, "scale_factor": 2},
     r"interpolate: give exactly one of size and scale_factor, got both"),
    ((1, 1, 4, 4), {}, r"interpolate: give exactly one of size and scale_factor, got neither"),
    ((1, 1, 4), {"size": 8, "mode": "bilinear"},
     r"interpolate: mode 'bilinear' needs a 4-D \(N, C, \.\.\.\) input, got shape \(1, 1, 4\)"),
    ((4, 4), {"size": 8}, r"interpolate: mode 'nearest' needs a 3-D, 4-D or 5-D"),
    ((1, 1, 4, 4), {"size": 8, "mode": "bicubic"},
     r"interpolate: mode must be one of nearest, linear, bilinear, trilinear, got 'bicubic'"),
    ((1, 1, 4, 4), {"size": 8, "align_corners": True},
     r"interpolate: align_corners can only be set with the linear modes"),
    ((1, 1, 4, 4), {"size": (8, 0)}, r"interpolate: size must be at least 1, got \(8, 0\)"),
    ((1, 1, 4, 4), {"scale_factor": -2.0},
     r"interpolate: scale_factor must be a positive number or 2"),
    ((1, 1, 4, 4), {"scale_factor": 0.1},
     r"interpolate: scale_factor 0.1 gives an empty output \(0, 0\)"),
])
def test_bad_arguments_are_named(shape, arguments, message):
    with pytest.raises(ValueError, match=message):
        F.interpolate(leaf(sample(shape, 0)), **arguments)
