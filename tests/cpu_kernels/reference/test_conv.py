"""The reference convolution against PyTorch: forward, input gradient and weight gradient on
drawn geometries (stride, asymmetric padding, dilation, groups, an empty batch), float32 and
float64. Every fast kernel is tested against this module, so this module is tested against
an independent library."""
import numpy
import pytest
from hypothesis import given, strategies as st

from minicnn.cpu_kernels.conv_geometry import ConvGeometry, correlation_size
from minicnn.cpu_kernels.reference import conv as reference


@st.composite
def problems(draw):
    """A geometry with (before, after) padding that may differ, and arrays for it."""
    pick = lambda low, high: (draw(st.integers(low, high)), draw(st.integers(low, high)))
    kernel, stride, dilation = pick(1, 4), pick(1, 3), pick(1, 2)
    padding = (pick(0, 2), pick(0, 2))
    in_size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - sum(p)), 9))
                    for k, d, p in zip(kernel, dilation, padding))
    out_size = tuple(correlation_size(*axis) for axis in zip(in_size, kernel, stride, padding, dilation))
    groups = draw(st.sampled_from([1, 2, 3]))
    batch = draw(st.integers(0, 4))
    in_channels, out_channels = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([numpy.float32, numpy.float64]))
    rng = numpy.random.default_rng(draw(st.integers(0, 2 ** 16)))
    geometry = ConvGeometry(in_size, out_size, kernel, stride, padding, dilation, groups)
    x = rng.standard_normal((batch, in_channels) + in_size).astype(dtype)
    w = rng.standard_normal((out_channels, in_channels // groups) + kernel).astype(dtype)
    b = rng.standard_normal(out_channels).astype(dtype)
    gy = rng.standard_normal((batch, out_channels) + out_size).astype(dtype)
    return geometry, x, w, b, gy


@given(problem=problems())
def test_matches_pytorch(torch, problem):
    geometry, x, w, b, gy = problem
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    (top, bottom), (left, right) = geometry.padding
    ty = torch.nn.functional.conv2d(torch.nn.functional.pad(tx, (left, right, top, bottom)), tw, tb,
                                    geometry.stride, 0, geometry.dilation, geometry.groups)
    ty.backward(torch.tensor(gy))
    tolerance = 1e-5 if x.dtype == numpy.float32 else 1e-12
    for ours, theirs in [(reference.forward(x, w, geometry, bias=b), ty),
                         (reference.input_grad(gy, w, geometry), tx.grad),
                         (reference.weight_grad(x, gy, geometry), tw.grad)]:
        assert ours.dtype == x.dtype and ours.shape == tuple(theirs.shape)
        numpy.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("stride, padding", [(1, ((0, 0), (0, 0))), (2, ((1, 0), (2, 1)))])
def test_input_grad_adds_the_bias_per_input_channel(stride, padding):
    """input_grad is a transposed convolution's forward, whose bias has one entry per channel c."""
    geometry = ConvGeometry((7, 6), tuple(correlation_size(n, 3, stride, p, 1) for n, p in zip((7, 6), padding)),
                            (3, 3), (stride, stride), padding, (1, 1), 1)
    rng = numpy.random.default_rng(0)
    gy = rng.standard_normal((2, 4) + geometry.out_size)
    w, bias = rng.standard_normal((4, 3, 3, 3)), numpy.array([1.0, -2.0, 3.0])
    numpy.testing.assert_array_equal(reference.input_grad(gy, w, geometry, bias=bias),
                                     reference.input_grad(gy, w, geometry) + bias.reshape(1, 3, 1, 1))
