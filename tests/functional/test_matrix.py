"""matmul and linear: gradients for every operand rank, PyTorch parity, shape errors."""
import numpy
import pytest
from hypothesis import given, strategies

import minicnn
import minicnn.functional as F
from tests.functional.test_arithmetic import assert_parity
from tests.helpers import covers, leaf


@strategies.composite
def matmul_shapes(draw):
    """Operand shapes covering 1-D vectors, matrices and broadcast batch dims."""
    n, k, m = (draw(strategies.integers(1, 3)) for _ in range(3))
    batch = draw(strategies.lists(strategies.integers(1, 2), max_size=2))
    a_batch = [draw(strategies.sampled_from([size, 1])) for size in batch]
    b_batch = [draw(strategies.sampled_from([size, 1])) for size in batch]
    a = draw(strategies.sampled_from([(k,), tuple(a_batch) + (n, k), tuple(a_batch[1:]) + (n, k)]))
    b = draw(strategies.sampled_from([(k,), tuple(b_batch) + (k, m), tuple(b_batch[:1]) + (k, m)]))
    return a, b


@covers("matmul")
@given(shapes=matmul_shapes())
def test_matmul_gradcheck_and_gradgradcheck(shapes, device):
    a, b = (leaf(s, device) for s in shapes)
    assert minicnn.gradcheck(F.matmul, (a, b))
    assert minicnn.gradgradcheck(F.matmul, (a, b))


@given(shapes=matmul_shapes())
def test_matmul_matches_torch(shapes, device, torch):
    arrays = [numpy.random.standard_normal(s) for s in shapes]
    assert_parity(torch, F.matmul, torch.matmul, arrays, device)


@pytest.mark.parametrize("shapes", [((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (4, 2)), ((3, 4), (2, 4, 5))])
def test_stack_times_matrix_matches_torch(shapes, device, torch):
    arrays = [numpy.random.standard_normal(s) for s in shapes]
    assert_parity(torch, F.matmul, torch.matmul, arrays, device)
    assert minicnn.gradcheck(F.matmul, tuple(leaf(a, device) for a in arrays))


@covers("linear")
@pytest.mark.parametrize("input_shape", [(3,), (2, 3), (2, 2, 3)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_gradcheck_and_gradgradcheck(input_shape, with_bias, device):
    inputs = (leaf(input_shape, device), leaf((4, 3), device)) + ((leaf((4,), device),) if with_bias else ())
    assert minicnn.gradcheck(F.linear, inputs)
    assert minicnn.gradgradcheck(F.linear, inputs)


@pytest.mark.parametrize("input_shape", [(3,), (2, 3), (2, 2, 3)])
def test_linear_matches_torch(input_shape, device, torch):
    arrays = [numpy.random.standard_normal(s) for s in (input_shape, (4, 3), (4,))]
    assert_parity(torch, F.linear, torch.nn.functional.linear, arrays, device)
    assert_parity(torch, F.linear, torch.nn.functional.linear, arrays[:2], device)


def test_matmul_inner_dimension_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"^matmul: inner dimensions differ: input \(2, 3\) @ "
                                         r"other \(4, 5\)"):
        F.matmul(minicnn.ones(2, 3), minicnn.ones(4, 5))
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ: input \(3,\) @ other \(4,\)"):
        minicnn.ones(3) @ minicnn.ones(4)


def test_matmul_batch_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: batch dimensions cannot be broadcast: input "
                                         r"\(2, 3, 4\) @ other \(5, 4, 2\)"):
        F.matmul(minicnn.ones(2, 3, 4), minicnn.ones(5, 4, 2))


def test_matmul_refuses_0d_operands():
    with pytest.raises(ValueError, match=r"matmul: both arguments need at least 1 dimension"):
        F.matmul(minicnn.tensor(2.0), minicnn.ones(3))


def test_linear_mismatches_are_explained():
    with pytest.raises(ValueError, match=r"linear: input has 3 features but weight expects 4 "
                                         r"\(input \(8, 3\), weight \(6, 4\)\)"):
        F.linear(minicnn.ones(8, 3), minicnn.ones(6, 4))
    with pytest.raises(ValueError, match=r"linear: bias has shape \(5,\) but weight \(6, 4\) needs \(6,\)"):
        F.linear(minicnn.ones(8, 4), minicnn.ones(6, 4), minicnn.ones(5))


def test_float32_weight_gets_a_float32_gradient_from_float64_data():
    weight = minicnn.ones(2, 3, requires_grad=True)
    data = minicnn.tensor(numpy.ones((4, 3)))                   # a float64 NumPy batch
    F.linear(data, weight).sum().backward()
    assert weight.grad.dtype == numpy.float32
    numpy.testing.assert_array_equal(weight.grad.numpy(), numpy.full((2, 3), 4.0))
