"""reshape, permute, cat/split, indexing: gradients, PyTorch parity, repeated indices, errors."""
import numpy
import pytest
from hypothesis import given, strategies
from hypothesis.extra.numpy import array_shapes

import minicnn
import minicnn.functional as F
from tests.functional.test_arithmetic import assert_parity
from tests.helpers import covers, leaf

shapes = array_shapes(min_dims=1, max_dims=3, max_side=3)


@strategies.composite
def shape_and_dim(draw, extra=0):
    """A shape and a valid dim for it (extra=1: a dim for a result with one more dim)."""
    shape = draw(shapes)
    ndim = len(shape) + extra
    return shape, draw(strategies.integers(-ndim, ndim - 1))


def check(fn, *inputs, second_order=True):
    assert minicnn.gradcheck(fn, inputs)
    if second_order:
        assert minicnn.gradgradcheck(fn, inputs)


@covers("reshape", "view", "flatten")
@given(shape=shapes)
def test_reshape_view_flatten_gradcheck(shape, device):
    x = leaf(shape, device)
    check(lambda t: F.reshape(t, (-1,) + shape[:1]), x)
    check(lambda t: F.view(t, shape[::-1]), x, second_order=False)
    check(lambda t: F.flatten(t, 0, -1), x, second_order=False)


@covers("permute", "transpose")
@given(shape=shapes, data=strategies.data())
def test_permute_transpose_gradcheck(shape, data, device):
    x = leaf(shape, device)
    dims = data.draw(strategies.permutations(range(len(shape))))
    dim0, dim1 = data.draw(strategies.tuples(*[strategies.integers(-len(shape), len(shape) - 1)] * 2))
    check(lambda t: F.permute(t, dims), x, second_order=False)
    check(lambda t: F.transpose(t, dim0, dim1), x)


@covers("squeeze", "unsqueeze")
@given(case=shape_and_dim(extra=1))
def test_squeeze_unsqueeze_gradcheck(case, device):
    shape, dim = case
    x = leaf(shape, device)
    check(lambda t: F.squeeze(F.unsqueeze(t, dim), dim), x, second_order=False)
    check(lambda t: F.squeeze(t), x, second_order=False)


@covers("cat", "concatenate", "stack")
@given(case=shape_and_dim(), sizes=strategies.lists(strategies.integers(1, 3), min_size=1, max_size=3))
def test_cat_stack_gradcheck(case, sizes, device):
    shape, dim = case
    axis = dim % len(shape)
    xs = [leaf(shape[:axis] + (size,) + shape[axis + 1:], device) for size in sizes]
    check(lambda *ts: F.cat(ts, dim), *xs)
    check(lambda *ts: F.concatenate(ts, dim), *xs, second_order=False)
    same = [leaf(shape, device) for _ in sizes]
    check(lambda *ts: F.stack(ts, dim), *same)


@covers("split", "chunk")
@given(case=shape_and_dim(), pieces=strategies.integers(1, 4))
def test_split_chunk_gradcheck(case, pieces, device):
    shape, dim = case
    x = leaf(shape, device)
    check(lambda t: F.split(t, pieces, dim), x)
    check(lambda t: F.chunk(t, pieces, dim), x, second_order=False)


def test_split_with_only_some_outputs_used(device):
    x = leaf((5, 2), device)
    first, _, last = F.split(x, [1, 3, 1])
    (first.sum() + 2 * last.sum()).backward()
    numpy.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [0, 0], [0, 0], [0, 0], [2, 2]])


KEYS = [
    (1,), (slice(None, None, 2),), (Ellipsis, 0), (None, slice(1, None)),
    (numpy.array([0, 2, 0, 0]),), ([1, 1],), (slice(None), numpy.array([[0, 1], [1, 0]])),
    (numpy.array([0, 1, 0]), numpy.array([1, 1, 1])), (numpy.array([True, False, True]),),
]


@covers("index")
@pytest.mark.parametrize("key", KEYS + [(slice(None, None, -1),)], ids=repr)   # torch has no step -1
def test_index_gradcheck_and_gradgradcheck(key, device):
    x = leaf((3, 2), device)
    check(lambda t: t[key], x)


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_index_matches_torch(key, device, torch):
    torch_key = tuple(torch.tensor(k) if isinstance(k, numpy.ndarray) else k for k in key)
    assert_parity(torch, lambda t: t[key], lambda t: t[torch_key],
                  (numpy.random.standard_normal((3, 2)),), device)


def test_repeated_indices_accumulate(device):
    x = leaf([10.0, 20.0, 30.0], device)
    index = minicnn.tensor([0, 0, 2, 0], device=device)
    x[index].sum().backward()
    numpy.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_index_gradient_of_gradient_gathers(device):
    x = leaf([1.0, 2.0, 3.0], device)
    (g,) = minicnn.grad((x[[2, 2]] ** 2).sum(), x, create_graph=True)
    numpy.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 12.0])     # 2 reads of 2 * 3
    (h,) = minicnn.grad(g.sum(), x)
    numpy.testing.assert_array_equal(h.numpy(), [0.0, 0.0, 4.0])


OPS = [
    ("reshape", lambda m: lambda t: m.reshape(t, (3, -1)), (2, 3)),
    ("flatten", lambda m: lambda t: m.flatten(t, 1), (2, 3, 2)),
    ("permute", lambda m: lambda t: m.permute(t, (2, 0, 1)), (2, 3, 4)),
    ("transpose", lambda m: lambda t: m.transpose(t, 0, -1), (2, 3, 4)),
    ("squeeze", lambda m: lambda t: m.squeeze(t), (1, 3, 1)),
    ("squeeze_dim", lambda m: lambda t: m.squeeze(t, 0), (1, 3, 1)),
    ("unsqueeze", lambda m: lambda t: m.unsqueeze(t, -1), (2, 3)),
    ("split", lambda m: lambda t: m.split(t, 2, 1), (2, 5)),
    ("split_sections", lambda m: lambda t: m.split(t, [1, 4], 1), (2, 5)),
    ("chunk", lambda m: lambda t: m.chunk(t, 3, 1), (2, 5)),
]


@pytest.mark.parametrize("name,make,shape", OPS, ids=[op[0] for op in OPS])
def test_matches_torch(name, make, shape, device, torch):
    assert_parity(torch, make(F), make(torch), (numpy.random.standard_normal(shape),), device)


@pytest.mark.parametrize("join", ["cat", "stack"])
def test_cat_stack_match_torch(join, device, torch):
    arrays = [numpy.random.standard_normal((2, 3)) for _ in range(3)]
    assert_parity(torch, lambda *ts: getattr(F, join)(ts, 1), lambda *ts: getattr(torch, join)(ts, 1),
                  arrays, device)


def test_float_index_tensor_is_refused():
    with pytest.raises(TypeError, match="index: index arrays must have an integer or bool dtype, "
                                        "got float32"):
        minicnn.ones(3)[minicnn.tensor([0.0, 1.0])]


def test_reshape_to_a_wrong_size_is_explained():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape input of shape \(2, 3\) "
                                         r"\(6 elements\) into \(4, 2\) \(8 elements\)"):
        F.reshape(minicnn.ones(2, 3), 4, 2)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape input of shape \(2, 3\) "
                                         r"\(6 elements\) into \(4, -1\)"):
        F.reshape(minicnn.ones(2, 3), (4, -1))


def test_cat_shape_mismatch_is_explained():
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\) but tensor 0 has "
                                         r"shape \(2, 3\); shapes must match except in dim 0"):
        F.cat([minicnn.ones(2, 3), minicnn.ones(2, 4)])


def test_stack_shape_mismatch_is_explained():
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(3,\) but tensor 0 has "
                                         r"shape \(2,\)"):
        F.stack([minicnn.ones(2), minicnn.ones(3)])


def test_split_sections_must_add_up():
    with pytest.raises(ValueError, match=r"split: sections \[2, 2\] add up to 4 but input has "
                                         r"size 5 in dim 0 \(shape \(5, 3\)\)"):
        F.split(minicnn.ones(5, 3), [2, 2])


def test_permute_needs_every_dim_once():
    with pytest.raises(ValueError, match=r"permute: dims \(0, 0\) is not a reordering of the 2 "
                                         r"dims of input \(2, 3\)"):
        F.permute(minicnn.ones(2, 3), 0, 0)


def test_flatten_dims_in_order():
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        F.flatten(minicnn.ones(2, 3, 4), 2, 1)


@covers("center_crop")
@given(height=strategies.integers(2, 6), width=strategies.integers(2, 6),
       crop_height=strategies.integers(1, 6), crop_width=strategies.integers(1, 6),
       lead=strategies.sampled_from([(), (2,), (1, 2)]))
def test_center_crop_gradcheck_and_window(height, width, crop_height, crop_width, lead):
    crop_height, crop_width = min(crop_height, height), min(crop_width, width)
    x = leaf(lead + (height, width))
    minicnn.gradcheck(lambda t: F.center_crop(t, crop_height, crop_width), (x,))
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    window = x.numpy()[..., top:top + crop_height, left:left + crop_width]
    numpy.testing.assert_array_equal(F.center_crop(x, crop_height, crop_width).numpy(), window)
    numpy.testing.assert_array_equal(F.center_crop(x.numpy(), crop_height, crop_width), window)


def test_center_crop_larger_than_the_input_is_explained():
    with pytest.raises(ValueError, match=r"center_crop: cannot take a 5 x 2 window from the last "
                                         r"two axes of shape \(1, 4, 4\)"):
        F.center_crop(minicnn.ones(1, 4, 4), 5, 2)
