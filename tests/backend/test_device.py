"""Device names and moving arrays between devices."""
import numpy
import pytest

import minicnn
from minicnn.backend import Device, cuda_is_available, device_of, move_array
from minicnn.backend.device import require_cupy


@pytest.mark.parametrize("spec, text", [("cpu", "cpu"), ("cuda", "cuda:0"), ("cuda:1", "cuda:1")])
def test_device_names(spec, text):
    device = Device(spec)
    assert str(device) == text and repr(device) == f"device('{text}')"
    assert Device(device) == device == text
    assert hash(device) == hash(Device(text))


def test_device_type_and_index():
    assert (Device("cuda:2").type, Device("cuda:2").index) == ("cuda", 2)
    assert (Device("cpu").type, Device("cpu").index) == ("cpu", None)
    assert minicnn.device("cpu") == "cpu"


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cpu:0:1", ""])
def test_bad_device_names(spec):
    with pytest.raises(ValueError, match=f"device: expected 'cpu', 'cuda' or 'cuda:N', got {spec!r}"):
        Device(spec)


def test_device_must_be_a_string():
    with pytest.raises(TypeError, match="device: expected a string like 'cpu' or 'cuda:0', got 0"):
        Device(0)
    assert Device("cpu") != 0


def test_numpy_arrays_live_on_the_cpu():
    array = numpy.zeros(2)
    assert device_of(array) == "cpu"
    assert move_array(array, "cpu") is array


def test_cuda_availability_is_a_bool():
    assert isinstance(cuda_is_available(), bool)


@pytest.mark.skipif(cuda_is_available(), reason="checks the message shown when CUDA is absent")
def test_asking_for_cuda_without_a_gpu_explains_how_to_get_it():
    with pytest.raises(RuntimeError, match=r"CUDA is not available.*pip install -e \"\.\[gpu\]\""):
        require_cupy()
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        move_array(numpy.zeros(2), "cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_is_available(), reason="CUDA is not available (needs CuPy and an NVIDIA GPU)")
def test_round_trip_through_the_gpu():
    array = numpy.arange(6.0).reshape(2, 3)
    on_gpu = move_array(array, "cuda")
    assert device_of(on_gpu) == "cuda:0"
    numpy.testing.assert_array_equal(move_array(on_gpu, "cpu"), array)
