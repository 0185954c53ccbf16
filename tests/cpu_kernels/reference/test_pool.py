"""The reference pooling kernels against PyTorch, through the pooling ops with every kernel call
sent to the reference: values, indices (ties and NaNs included) and gradients, float32 and
float64. Every fast pooling kernel is tested against this module (test_pool_numba.py)."""
import numpy
import pytest
from hypothesis import given, strategies as st

import minicnn
import minicnn.functional as F
from minicnn.cpu_kernels import dispatch
from minicnn.cpu_kernels.reference import pool as reference
from tests.functional.test_pool import LEADS, windows

dtypes = st.sampled_from([numpy.float32, numpy.float64])


@pytest.fixture
def reference_kernels(monkeypatch):
    monkeypatch.setattr(dispatch, "_pool_kernels", lambda array: reference)


def few_values(shape, seed, dtype, nan_fraction=0.0):
    """Values from {0, 1, 2} (so windows hold ties), a fraction of them NaN."""
    rng = numpy.random.default_rng(seed)
    values = rng.integers(0, 3, shape).astype(dtype)
    values[rng.random(shape) < nan_fraction] = numpy.nan
    return values


def run(function, data, gradient):
    """Outputs of function(x), and x's gradient for `gradient` on the first output."""
    outputs = function(data)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    outputs[0].backward(gradient)
    return outputs, data.grad


def check(ours, theirs, tolerance):
    (our_outputs, our_grad), (their_outputs, their_grad) = ours, theirs
    for mine, reference_value in zip(our_outputs + (our_grad,), their_outputs + (their_grad,)):
        expected = reference_value.detach().numpy()
        assert mine.shape == expected.shape and mine.dtype == expected.dtype
        numpy.testing.assert_allclose(mine.numpy(), expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("spatial", [1, 2])
@given(case=st.data(), seed=st.integers(0, 2**16), dtype=dtypes, nan_fraction=st.sampled_from([0.0, 0.1]))
def test_max_pool_matches_pytorch(torch, reference_kernels, spatial, case, seed, dtype, nan_fraction):
    arguments, shape = case.draw(windows(spatial))
    data = few_values(shape, seed, dtype, nan_fraction)
    gradient = numpy.random.default_rng(seed).standard_normal(
        getattr(torch.nn.functional, f"max_pool{spatial}d")(torch.tensor(data), **arguments).shape).astype(dtype)
    pool = lambda library: lambda x: getattr(library, f"max_pool{spatial}d")(x, return_indices=True, **arguments)
    ours = run(pool(F), minicnn.tensor(data, requires_grad=True), minicnn.tensor(gradient))
    theirs = run(pool(torch.nn.functional), torch.tensor(data, requires_grad=True), torch.tensor(gradient))
    check(ours, theirs, 1e-6)


@pytest.mark.parametrize("spatial", [1, 2])
@given(case=st.data(), seed=st.integers(0, 2**16), dtype=dtypes, include_pad=st.booleans())
def test_avg_pool_matches_pytorch(torch, reference_kernels, spatial, case, seed, dtype, include_pad):
    arguments, shape = case.draw(windows(spatial, dilation=False))
    arguments["count_include_pad"] = include_pad
    data = numpy.random.default_rng(seed).standard_normal(shape).astype(dtype)
    pool = lambda library: lambda x: getattr(library, f"avg_pool{spatial}d")(x, **arguments)
    gradient = numpy.ones(pool(torch.nn.functional)(torch.tensor(data)).shape, dtype)
    ours = run(pool(F), minicnn.tensor(data, requires_grad=True), minicnn.tensor(gradient))
    theirs = run(pool(torch.nn.functional), torch.tensor(data, requires_grad=True), torch.tensor(gradient))
    check(ours, theirs, 1e-6 if dtype == numpy.float32 else 1e-12)


@given(lead=st.sampled_from(LEADS), size=st.tuples(st.integers(1, 7), st.integers(1, 7)),
       out=st.tuples(st.integers(1, 4), st.integers(1, 4)), seed=st.integers(0, 2**16), dtype=dtypes)
def test_adaptive_pools_match_pytorch(torch, reference_kernels, lead, size, out, seed, dtype):
    data = few_values(lead + size, seed, dtype)
    gradient = numpy.random.default_rng(seed).standard_normal(lead + out).astype(dtype)
    for name in ("adaptive_max_pool2d", "adaptive_avg_pool2d"):
        pool = lambda library: lambda x: getattr(library, name)(x, out)
        ours = run(pool(F), minicnn.tensor(data, requires_grad=True), minicnn.tensor(gradient))
        theirs = run(pool(torch.nn.functional), torch.tensor(data, requires_grad=True), torch.tensor(gradient))
        check(ours, theirs, 1e-6 if dtype == numpy.float32 else 1e-12)
