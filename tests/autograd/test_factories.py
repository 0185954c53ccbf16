"""tensor() and the factories: dtype rules as in PyTorch, shapes, copies, seeds, devices."""
import numpy
import pytest

import minicnn
from minicnn.backend import set_default_dtype


@pytest.mark.parametrize("data, dtype", [
    (1.5, numpy.float32),               # Python float -> the default dtype
    ([1.0, 2.0], numpy.float32),
    ([[1, 2.5]], numpy.float32),        # a list with any float is floating
    (3, numpy.int64),                   # Python int -> int64
    ([1, 2], numpy.int64),
    (True, numpy.bool_),
    (numpy.zeros(2, dtype=numpy.float64), numpy.float64),   # arrays keep their dtype
    (numpy.zeros(2, dtype=numpy.int32), numpy.int32),
    (numpy.zeros(2, dtype=numpy.float16), numpy.float16),
])
def test_tensor_dtype_rules(data, dtype):
    assert minicnn.tensor(data).dtype == dtype


def test_tensor_copies_its_source():
    source = numpy.arange(3.0)
    x = minicnn.tensor(source)
    source[0] = 9
    assert x.numpy().tolist() == [0.0, 1.0, 2.0]
    y = minicnn.tensor(x)
    x.data[1] = 7
    assert y.numpy().tolist() == [0.0, 1.0, 2.0]


def test_tensor_dtype_argument_converts():
    assert minicnn.tensor([1, 2], dtype="float64").dtype == numpy.float64
    assert minicnn.tensor([1.7], dtype=minicnn.int32).numpy().tolist() == [1]


def test_tensor_is_a_leaf_with_requires_grad():
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    assert x.is_leaf and x.requires_grad and x.grad is None and x.grad_fn is None


@pytest.mark.parametrize("data", [[1, 2], 3, numpy.arange(3), [True, False]])
def test_requires_grad_on_non_floating_raises(data):
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients"):
        minicnn.tensor(data, requires_grad=True)
    x = minicnn.tensor(data)
    with pytest.raises(RuntimeError, match=f"got dtype {x.dtype}"):
        x.requires_grad_()


def test_python_scalars_keep_float32():
    x = minicnn.tensor([1.0, 2.0])
    for y in (x * 2.0, 2.0 * x, x + 1, 1 - x, x / 3, x ** 2, 2 ** x, -x):
        assert y.dtype == numpy.float32


def test_float64_tensors_stay_float64_with_scalars():
    x = minicnn.tensor(numpy.array([1.0, 2.0]))
    assert (x * 2.0 + 1).dtype == numpy.float64


def test_int_tensor_with_int_scalar_stays_int64():
    x = minicnn.tensor([1, 2])
    assert (x * 2).dtype == numpy.int64 and (x * 2).numpy().tolist() == [2, 4]


@pytest.mark.parametrize("make", [minicnn.zeros, minicnn.ones, minicnn.randn, minicnn.rand])
def test_shape_as_arguments_or_tuple(make):
    assert make(2, 3).shape == make((2, 3)).shape == make([2, 3]).shape == (2, 3)
    assert make(2, 3).dtype == numpy.float32
    assert make(2, dtype="float64").dtype == numpy.float64


def test_bad_shape_names_the_shape():
    with pytest.raises(ValueError, match=r"shape: expected non-negative integers, got \(2, -1\)"):
        minicnn.zeros(2, -1)
    with pytest.raises(ValueError, match="non-negative integers"):
        minicnn.ones(2.5)


def test_filled_values():
    assert minicnn.zeros(2).numpy().tolist() == [0.0, 0.0]
    assert minicnn.ones(2).numpy().tolist() == [1.0, 1.0]
    assert minicnn.full((2,), 7).dtype == numpy.int64
    assert minicnn.full((2,), 1.5).numpy().tolist() == [1.5, 1.5]
    assert minicnn.full((2,), 1.5).dtype == numpy.float32
    assert minicnn.full(3, True).dtype == numpy.bool_
    numpy.testing.assert_array_equal(minicnn.eye(2, 3).numpy(), numpy.eye(2, 3))
    assert minicnn.eye(2).dtype == numpy.float32


def test_arange_dtypes_follow_the_arguments():
    assert minicnn.arange(4).numpy().tolist() == [0, 1, 2, 3]
    assert minicnn.arange(4).dtype == numpy.int64
    assert minicnn.arange(1, 7, 2).numpy().tolist() == [1, 3, 5]
    assert minicnn.arange(0.0, 1.0, 0.5).dtype == numpy.float32
    assert minicnn.arange(3, dtype="float64").dtype == numpy.float64


def test_like_factories_keep_shape_and_dtype():
    x = minicnn.tensor(numpy.zeros((2, 3), dtype=numpy.float64))
    for like in (minicnn.zeros_like, minicnn.ones_like, minicnn.randn_like, minicnn.rand_like):
        y = like(x)
        assert y.shape == (2, 3) and y.dtype == numpy.float64
    assert minicnn.full_like(x, 4).numpy().tolist() == [[4.0] * 3] * 2
    assert minicnn.zeros_like(x, dtype="int64").dtype == numpy.int64


def test_random_factories_are_reproducible_with_manual_seed():
    minicnn.manual_seed(3)
    first = minicnn.randn(5).numpy(), minicnn.rand(5).numpy(), minicnn.randint(0, 10, (5,)).numpy()
    minicnn.manual_seed(3)
    second = minicnn.randn(5).numpy(), minicnn.rand(5).numpy(), minicnn.randint(0, 10, (5,)).numpy()
    for a, b in zip(first, second):
        numpy.testing.assert_array_equal(a, b)
    assert second[2].dtype == numpy.int64 and 0 <= second[2].min() and second[2].max() < 10
    assert 0 <= second[1].min() and second[1].max() < 1


def test_set_default_dtype_changes_floats():
    try:
        set_default_dtype(numpy.float64)
        assert minicnn.tensor(1.5).dtype == numpy.float64
        assert minicnn.zeros(2).dtype == numpy.float64
    finally:
        set_default_dtype(numpy.float32)
    assert minicnn.tensor(1.5).dtype == numpy.float32


def test_factories_on_device(device):
    x = minicnn.randn(2, 3, device=device, requires_grad=True)
    assert x.device == device and x.requires_grad
    assert minicnn.tensor([1.0], device=device).device == device
    minicnn.manual_seed(1)
    here = minicnn.randn(4, device=device).numpy()
    minicnn.manual_seed(1)
    numpy.testing.assert_array_equal(here, minicnn.randn(4).numpy())   # same draws on every device


def test_python_floats_convert_straight_to_the_asked_dtype():
    assert minicnn.tensor(0.1, dtype="float64").item() == 0.1
    x = minicnn.tensor(numpy.array([1.0]))
    assert (x * 0.1).item() == 0.1          # not 0.1 rounded to float32 first


@pytest.mark.parametrize("data, received", [
    ("abc", r"str 'abc', which NumPy stores with dtype <U3"),
    (None, "NoneType None, which NumPy stores with dtype object"),
    ([1.0, None], r"list \[1.0, None\], which NumPy stores with dtype object"),
    ({"a": 1}, "dict"),
])
def test_tensor_of_something_else_than_numbers_names_what_it_got(data, received):
    with pytest.raises(TypeError, match=rf"tensor: 'data' must hold numbers or bools, got {received}"):
        minicnn.tensor(data)


def test_tensor_of_a_ragged_list_says_so():
    with pytest.raises(ValueError, match=r"tensor: cannot make an array of 'data' \(list \[\[1, 2\], "
                                         r"\[3\]\]\): .*inhomogeneous shape"):
        minicnn.tensor([[1, 2], [3]])


def test_tensor_of_a_list_of_tensors_points_to_stack():
    with pytest.raises(TypeError, match=r"minicnn.stack\(tensors\) joins tensors"):
        minicnn.tensor([minicnn.tensor(1.0), minicnn.tensor(2.0)])
