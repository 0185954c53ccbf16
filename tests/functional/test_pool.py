"""Pooling: gradients over drawn window settings, PyTorch parity (values, indices, gradients),
empty batches, the CUDA kernels against the Numba kernels, and the error messages. The Numba
kernels against the reference: tests/cpu_kernels/test_pool_numba.py."""
import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minicnn
import minicnn.functional as F
from minicnn.backend.device import cuda_is_available
from minicnn.cpu_kernels import pool_numba
from minicnn.functional.pool import _adaptive_geometry, _fixed_windows, _geometry
from tests.helpers import assert_close, covers, leaf, to_torch

# Leading dims: (N, C) batches and an unbatched (C,) input.
LEADS = [(1, 1), (2, 1), (1, 2), (2,)]


@st.composite
def windows(draw, spatial, dilation=True):
    """Keyword arguments of a fixed-window pool and an input shape it fits."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    dilations = tuple(draw(st.integers(1, 2)) if dilation else 1 for _ in range(spatial))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilations)]
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    sizes = tuple(draw(st.integers(max(1, span - 2 * p), span - 2 * p + 3))
                  for span, p in zip(spans, padding))
    arguments = dict(kernel_size=kernel, stride=tuple(draw(st.integers(1, 3)) for _ in kernel),
                     padding=padding, ceil_mode=draw(st.booleans()))
    if dilation:
        arguments["dilation"] = dilations
    shape = draw(st.sampled_from(LEADS)) + sizes
    assume(fits(spatial, arguments, shape))
    return arguments, shape


def fits(spatial, arguments, shape):
    """Whether every window reads the input (dilation can step over a small one)."""
    try:
        _fixed_windows("test", numpy.empty(shape), spatial=spatial,
                       **{"dilation": 1, **arguments})
    except ValueError:
        return False
    return True


def distinct(shape, seed):
    """Values at least 1 / size apart, so no window has a tie that finite differences would
    split between two maxima."""
    rng = numpy.random.default_rng(seed)
    size = int(numpy.prod(shape))
    return (rng.permutation(size) + rng.uniform(0, 0.5, size)).reshape(shape) / size


def pool(name, arguments):
    return lambda x: getattr(F, name)(x, **arguments)


avg_options = st.fixed_dictionaries({"count_include_pad": st.booleans()})
adaptive = st.tuples(st.sampled_from(LEADS), st.integers(1, 6), st.integers(1, 6),
                     st.integers(1, 4), st.integers(1, 4))


@covers("max_pool2d", "max_pool1d")
@pytest.mark.parametrize("name,spatial", [("max_pool2d", 2), ("max_pool1d", 1)])
@given(case=st.data(), seed=st.integers(0, 2**16))
def test_max_pool_gradcheck(device, name, spatial, case, seed):
    arguments, shape = case.draw(windows(spatial))
    minicnn.gradcheck(pool(name, arguments), (leaf(distinct(shape, seed), device),))


@covers("avg_pool2d", "avg_pool1d")
@pytest.mark.parametrize("name,spatial", [("avg_pool2d", 2), ("avg_pool1d", 1)])
@given(case=st.data(), options=avg_options, seed=st.integers(0, 2**16))
def test_avg_pool_gradcheck(device, name, spatial, case, options, seed):
    arguments, shape = case.draw(windows(spatial, dilation=False))
    minicnn.gradcheck(pool(name, {**arguments, **options}), (leaf(distinct(shape, seed), device),))


@covers("adaptive_avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool1d",
        "adaptive_max_pool1d", "global_avg_pool2d")
@given(case=adaptive, seed=st.integers(0, 2**16))
def test_adaptive_pool_gradcheck(device, case, seed):
    lead, height, width, out_h, out_w = case
    x = leaf(distinct(lead + (height, width), seed), device)
    line = leaf(distinct(lead + (width,), seed), device)
    minicnn.gradcheck(lambda x: F.adaptive_avg_pool2d(x, (out_h, out_w)), (x,))
    minicnn.gradcheck(lambda x: F.adaptive_max_pool2d(x, (out_h, out_w)), (x,))
    minicnn.gradcheck(lambda x: F.adaptive_avg_pool1d(x, out_w), (line,))
    minicnn.gradcheck(lambda x: F.adaptive_max_pool1d(x, out_w), (line,))
    minicnn.gradcheck(F.global_avg_pool2d, (x,))


@pytest.mark.parametrize("name,arguments", [
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=(2, 3), stride=1, padding=1, count_include_pad=False)),
    ("avg_pool2d", dict(kernel_size=2, divisor_override=3)),
    ("adaptive_max_pool2d", dict(output_size=(2, 3))),
])
def test_gradgradcheck(device, name, arguments):
    minicnn.gradgradcheck(pool(name, arguments), (leaf(distinct((1, 2, 4, 5), 7), device),))


TORCH_CASES = [
    ("max_pool2d", "max_pool2d"), ("max_pool1d", "max_pool1d"),
    ("avg_pool2d", "avg_pool2d"), ("avg_pool1d", "avg_pool1d")]


@pytest.mark.parametrize("name,torch_name", TORCH_CASES)
@given(case=st.data(), include_pad=st.booleans(), seed=st.integers(0, 2**16))
def test_matches_torch(device, torch, name, torch_name, case, include_pad, seed):
    spatial = 2 if name.endswith("2d") else 1
    is_max = name.startswith("max")
    arguments, shape = case.draw(windows(spatial, dilation=is_max))
    if is_max:
        arguments["return_indices"] = True
    else:
        arguments["count_include_pad"] = include_pad
    x = leaf(distinct(shape, seed), device)
    x_torch = to_torch(torch, x)
    ours = getattr(F, name)(x, **arguments)
    theirs = getattr(torch.nn.functional, torch_name)(x_torch, **arguments)
    if is_max:
        (ours, indices), (theirs, torch_indices) = ours, theirs
        numpy.testing.assert_array_equal(indices.numpy(), torch_indices.numpy())
    upstream = numpy.random.default_rng(seed).standard_normal(theirs.shape)
    ours.backward(minicnn.tensor(upstream, device=device))
    theirs.backward(torch.tensor(upstream))
    assert_close(ours, theirs, rtol=1e-12, atol=1e-14)
    assert_close(x.grad, x_torch.grad, rtol=1e-12, atol=1e-14)


@given(case=adaptive, seed=st.integers(0, 2**16))
def test_adaptive_matches_torch(device, torch, case, seed):
    lead, height, width, out_h, out_w = case
    x = leaf(distinct(lead + (height, width), seed), device)
    x_torch = to_torch(torch, x)
    functional = torch.nn.functional
    values, indices = F.adaptive_max_pool2d(x, (out_h, out_w), return_indices=True)
    torch_values, torch_indices = functional.adaptive_max_pool2d(x_torch, (out_h, out_w), True)
    numpy.testing.assert_array_equal(indices.numpy(), torch_indices.numpy())
    total = values.sum() + F.adaptive_avg_pool2d(x, (out_h, None)).sum() * 2.0
    total.backward()
    torch_total = torch_values.sum() + functional.adaptive_avg_pool2d(x_torch, (out_h, None)).sum() * 2
    torch_total.backward()
    assert_close(values, torch_values)
    assert_close(x.grad, x_torch.grad)


def test_float32_stays_float32_and_matches_torch(device, torch):
    x = leaf(distinct((2, 3, 9, 8), 3), device, dtype=numpy.float32)
    for name in ("max_pool2d", "avg_pool2d"):
        y = getattr(F, name)(x, 3, 2, 1)
        assert y.dtype == numpy.float32
        assert_close(y, getattr(torch.nn.functional, name)(to_torch(torch, x), 3, 2, 1), rtol=1e-6)


def test_global_avg_pool_keeps_singleton_dims(device):
    x = leaf(distinct((2, 3, 4, 5), 1), device)
    y = F.global_avg_pool2d(x)
    assert y.shape == (2, 3, 1, 1)
    numpy.testing.assert_allclose(y.numpy()[..., 0, 0], x.numpy().mean(axis=(2, 3)))


def test_max_pool_propagates_nan_like_torch(torch):
    data = distinct((1, 1, 4, 4), 2)
    data[0, 0, 1, 2] = numpy.nan
    values, indices = F.max_pool2d(leaf(data), 2, return_indices=True)
    torch_values, torch_indices = torch.nn.functional.max_pool2d(torch.tensor(data), 2,
                                                                 return_indices=True)
    numpy.testing.assert_array_equal(values.numpy(), torch_values.numpy())
    numpy.testing.assert_array_equal(indices.numpy(), torch_indices.numpy())


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_is_available(), reason="CUDA is not available (needs CuPy and an NVIDIA GPU)")
@given(case=st.data(), seed=st.integers(0, 2**16), out_h=st.integers(1, 5), out_w=st.integers(1, 5))
def test_cuda_kernels_agree_with_numba_kernels(case, seed, out_h, out_w):
    """gpu_kernels/pool.py (kernels/pool.cu) runs on CuPy; it must give the Numba kernels' results."""
    import cupy
    from minicnn.gpu_kernels import pool as pool_cuda
    arguments, shape = case.draw(windows(2))
    x = minicnn.tensor(distinct(shape, seed))
    fixed = _fixed_windows("test", x, arguments["kernel_size"], arguments["stride"],
                           arguments["padding"], arguments["dilation"], arguments["ceil_mode"], 2)
    geometries = [_geometry(*fixed[:3], divisor=numpy.ones(fixed[2])),
                  _adaptive_geometry("test", x, (out_h, out_w), 2, True)]
    planes = x.data.reshape(-1, *shape[-2:])
    on_gpu = cupy.asarray(planes)
    for g in geometries:
        gy = numpy.random.default_rng(seed).standard_normal((planes.shape[0], *g.out_plane))
        expected = pool_numba.max_pool(planes, g.rows, g.cols)
        for ours, theirs in zip(pool_cuda.max_pool(on_gpu, g.rows, g.cols), expected):
            numpy.testing.assert_array_equal(ours.get(), theirs)
        numpy.testing.assert_allclose(pool_cuda.avg_pool(on_gpu, g.rows, g.cols, g.divisor).get(),
                                      pool_numba.avg_pool(planes, g.rows, g.cols, g.divisor))
        numpy.testing.assert_allclose(
            pool_cuda.avg_pool_backward(cupy.asarray(gy), g.rows, g.cols, g.divisor, shape[-2:]).get(),
            pool_numba.avg_pool_backward(gy, g.rows, g.cols, g.divisor, shape[-2:]))
        index = expected[1].reshape(planes.shape[0], -1)
        numpy.testing.assert_allclose(
            pool_cuda.scatter_add(cupy.asarray(gy.reshape(index.shape)), cupy.asarray(index),
                                  planes[0].size).get(),
            pool_numba.scatter_add(gy.reshape(index.shape), index, planes[0].size))


def test_ceil_mode_rounds_up_but_never_starts_a_window_in_the_right_padding():
    four, five = leaf(distinct((1, 1, 4, 4), 0)), leaf(distinct((1, 1, 5, 5), 0))
    # (4 - 3) / 2 + 1 = 1.5 windows: floor gives 1, ceil 2.
    assert F.max_pool2d(four, 3, 2).shape[-1] == 1
    assert F.max_pool2d(four, 3, 2, ceil_mode=True).shape[-1] == 2
    # (5 + 2 - 2) / 2 + 1 = 3.5 rounds up to 4, but window 4 would start at 3 * 2 - 1 = 5,
    # past the input: so 3.
    assert F.avg_pool2d(five, 2, 2, padding=1, ceil_mode=True).shape[-1] == 3


@pytest.mark.parametrize("call,message", [
    (lambda x: F.max_pool2d(leaf(distinct((4, 4), 0)), 2),
     r"max_pool2d: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape \(4, 4\)"),
    (lambda x: F.avg_pool1d(x, 2),
     r"avg_pool1d: expected a 2-D \(C, L\) or 3-D \(N, C, L\) input, got shape \(1, 2, 4, 4\)"),
    (lambda x: F.max_pool2d(x, 6),
     r"max_pool2d: kernel_size \(6, 6\) with dilation \(1, 1\) is larger than the padded input \(4, 4\)"),
    (lambda x: F.max_pool2d(x, 4, dilation=2, padding=1),
     r"larger than the padded input \(6, 6\) \(input \(1, 2, 4, 4\), padding \(1, 1\)\)"),
    (lambda x: F.max_pool2d(x, 2, stride=0),
     r"max_pool2d: stride must be at least 1, got 0"),
    (lambda x: F.avg_pool2d(x, 3, padding=2),
     r"avg_pool2d: padding \(2, 2\) must be at most half of kernel_size \(3, 3\)"),
    (lambda x: F.max_pool2d(x, 2, padding=-1),
     r"max_pool2d: padding must be at least 0, got -1"),
    (lambda x: F.max_pool2d(x, (2, 2, 2)),
     r"max_pool2d: kernel_size must be an int or 2 ints, got \(2, 2, 2\)"),
    (lambda x: F.max_pool2d(leaf(distinct((1, 2, 4, 1), 0)), (1, 2), dilation=2, padding=(0, 1)),
     r"max_pool2d: window 0 along dim 3 reads only padding"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0),
     r"avg_pool2d: divisor_override must not be zero"),
    (lambda x: F.adaptive_avg_pool2d(x, (0, 2)),
     r"adaptive_avg_pool2d: output_size must be at least 1, got \(0, 2\)"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call(leaf(distinct((1, 2, 4, 4), 0)))


EMPTY_BATCH = [("max_pool2d", dict(kernel_size=2, return_indices=True)),
               ("max_pool1d", dict(kernel_size=3, stride=2, padding=1)),
               ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
               ("avg_pool1d", dict(kernel_size=2)),
               ("adaptive_max_pool2d", dict(output_size=(2, 3), return_indices=True)),
               ("adaptive_max_pool1d", dict(output_size=3)),
               ("adaptive_avg_pool2d", dict(output_size=(3, 2))),
               ("adaptive_avg_pool1d", dict(output_size=2)),
               ("global_avg_pool2d", {})]


@pytest.mark.parametrize("name, arguments", EMPTY_BATCH, ids=[name for name, _ in EMPTY_BATCH])
def test_an_empty_batch_gives_what_pytorch_gives(device, torch, name, arguments):
    """N = 0: empty outputs (and int64 indices) of the right shape and an empty gradient."""
    spatial = 1 if name.endswith("1d") else 2
    x = leaf((0, 3) + (5, 6)[-spatial:], device)
    ours = getattr(F, name)(x, **arguments)
    ours = ours if isinstance(ours, tuple) else (ours,)
    if name == "global_avg_pool2d":   # PyTorch's name for it
        theirs = (torch.nn.functional.adaptive_avg_pool2d(to_torch(torch, x), 1),)
    else:
        theirs = getattr(torch.nn.functional, name)(to_torch(torch, x), **arguments)
        theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for mine, reference in zip(ours, theirs):
        assert mine.shape == tuple(reference.shape) and str(mine.dtype) == str(reference.dtype).split(".")[-1]
    ours[0].sum().backward()
    assert x.grad.shape == x.shape
