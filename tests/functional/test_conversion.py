"""astype, to, cpu, cuda: values kept, gradients brought back to the input's dtype and device."""
import numpy
import pytest

import minicnn
import minicnn.functional as F
from minicnn.backend import cuda_is_available
from tests.helpers import covers, leaf


@covers("astype")
def test_astype_gradcheck(device):
    x = leaf((2, 3), device)
    # float32 keeps about 7 digits, so the finite differences need a larger step.
    assert minicnn.gradcheck(lambda t: F.astype(t, "float32"), x, eps=1e-3, atol=1e-4)
    assert minicnn.gradcheck(lambda t: F.astype(F.astype(t, minicnn.float32) * 3, minicnn.float64),
                             x, eps=1e-3, atol=1e-4)


@covers("to", "cpu", "cuda")
def test_device_moves_gradcheck(device):
    x = leaf((2, 3), device)
    assert minicnn.gradcheck(lambda t: F.to(t, device) * 2, x)
    assert minicnn.gradcheck(lambda t: F.cpu(t) * 2, x)
    if device == "cuda":
        assert minicnn.gradcheck(lambda t: F.cuda(F.cpu(t)) * 2, x)
        assert minicnn.gradgradcheck(lambda t: F.cpu(t) ** 2, x)


def test_cast_gradient_comes_back_in_the_input_dtype(device):
    x = minicnn.ones(3, requires_grad=True, device=device)
    y = F.to(x, minicnn.float64)
    assert y.dtype == numpy.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == numpy.float32
    numpy.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_cast_to_integer_cuts_the_graph():
    y = F.astype(minicnn.tensor([1.7, -2.2], requires_grad=True), "int64")
    assert y.dtype == numpy.int64 and not y.requires_grad
    numpy.testing.assert_array_equal(y.numpy(), [1, -2])


def test_to_accepts_device_dtype_both_a_tensor_and_keywords():
    x = minicnn.ones(2)
    assert F.to(x, "cpu") is x and F.to(x, minicnn.float32) is x
    assert F.to(x, "cpu", minicnn.float64).dtype == numpy.float64
    assert F.to(x, minicnn.device("cpu"), "float16").dtype == numpy.float16
    assert F.to(x, minicnn.zeros(1, dtype="int32")).dtype == numpy.int32
    assert F.to(x, dtype=minicnn.float64, device="cpu").dtype == numpy.float64


@pytest.mark.skipif(cuda_is_available(), reason="checks the message shown without a GPU")
def test_cuda_without_gpu_says_how_to_get_one():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        F.cuda(minicnn.ones(2))


def test_round_trip_to_gpu_keeps_values_and_grad(device):
    if device != "cuda":
        pytest.skip("needs a GPU")
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    y = F.cuda(x)
    assert y.device.type == "cuda"
    (F.cpu(y * y)).sum().backward()
    assert x.grad.device.type == "cpu"
    numpy.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
