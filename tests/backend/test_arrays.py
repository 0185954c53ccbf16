"""array_module: NumPy or CuPy by the arrays' type, and a clear error when they are mixed.

A real CuPy array is not needed to test the dispatch: a class whose module is 'cupy...'
is recognised the same way, because CuPy is detected by its type's module, never imported.
"""
import numpy
import pytest

import minicnn
from minicnn.backend import array_module, is_cupy_array, to_numpy
from minicnn.functional import add
from tests.helpers import leaf


class FakeCupyArray:
    shape = (3,)
    dtype = numpy.dtype("float64")


FakeCupyArray.__module__ = "cupy._core.core"


def test_numpy_arrays_numbers_and_none_give_numpy():
    assert array_module(numpy.zeros(2), None, 3.0) is numpy
    assert array_module() is numpy


def test_cupy_is_recognised_by_its_module_name():
    assert is_cupy_array(FakeCupyArray())
    assert not is_cupy_array(numpy.zeros(1))


def test_mixing_devices_names_the_op_and_the_devices():
    with pytest.raises(RuntimeError, match=r"conv2d: arguments are on different devices \(cpu, cuda\).*\.to\(device\)"):
        array_module(numpy.zeros(3), FakeCupyArray(), op="conv2d")


def test_an_op_on_tensors_of_two_devices_fails_before_computing():
    gpu_tensor = minicnn.Tensor(FakeCupyArray())
    with pytest.raises(RuntimeError, match=r"add: arguments are on different devices \(cpu, cuda\)"):
        add(leaf((3,)), gpu_tensor)


def test_to_numpy_of_a_numpy_array_is_itself():
    array = numpy.arange(3)
    assert to_numpy(array) is array
