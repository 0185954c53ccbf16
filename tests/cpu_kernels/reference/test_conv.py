"""The reference convolution against PyTorch: forward, input gradient and weight gradient on
drawn geometries (stride, asymmetric padding, dilation, groups, an empty batch), float32 and
float64. Every fast kernel is tested against this module, so this module is tested against
an independent library."""
import numpy
import pytest
from hypothesis import given, strategies as st

from minicnn.backend import cuda_is_available
from minicnn.cpu_kernels.conv_geometry import ConvGeometry, correlation_size
from minicnn.cpu_kernels.reference import conv as reference
from tests.cpu_kernels.test_conv_kernels import problems

# Geometries with (before, after) padding that may differ, and batches that may be empty.
with_empty_batches = problems(batches=st.integers(0, 4))


@given(problem=with_empty_batches)
def test_matches_pytorch(torch, problem):
    geometry, x, w, gy = problem
    b = numpy.linspace(-1, 1, w.shape[0]).astype(x.dtype)
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


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_is_available(), reason="CUDA is not available (needs CuPy and an NVIDIA GPU)")
@given(problem=with_empty_batches)
def test_the_cuda_kernels_compute_what_the_reference_does(problem):
    """gpu_kernels/conv.py (kernels/im2col.cu and cuBLAS) on CuPy arrays; the reference on
    the same CuPy arrays too, as it runs for an empty batch on a GPU."""
    import cupy
    from minicnn.gpu_kernels import conv as cuda
    geometry, x, w, gy = problem
    tolerance = 1e-4 if x.dtype == numpy.float32 else 1e-11
    for product, arrays in [("forward", (x, w)), ("input_grad", (gy, w)), ("weight_grad", (x, gy))]:
        expected = getattr(reference, product)(*arrays, geometry)
        on_gpu = [cupy.asarray(a) for a in arrays]
        reference_on_gpu = getattr(reference, product)(*on_gpu, geometry).get()
        numpy.testing.assert_allclose(reference_on_gpu, expected, rtol=tolerance, atol=tolerance)
        if x.shape[0] > 0:
            ours = getattr(cuda, product)(*on_gpu, geometry).get()
            numpy.testing.assert_allclose(ours, expected, rtol=tolerance, atol=tolerance, err_msg=product)
