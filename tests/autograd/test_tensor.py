"""Tensor: array facts, detach, hooks and retain_grad."""
import numpy
import pytest

import minicnn
from tests.helpers import leaf


def test_array_facts():
    x = minicnn.zeros(2, 3)
    assert (x.shape, x.ndim, x.dim(), x.numel(), len(x)) == ((2, 3), 2, 2, 6, 2)
    assert x.size() == (2, 3) and x.size(1) == 3
    assert minicnn.tensor(2.5).item() == 2.5 and float(minicnn.tensor(2.5)) == 2.5
    assert minicnn.tensor([[1, 2]]).tolist() == [[1, 2]]


def test_item_of_many_elements_names_the_shape():
    with pytest.raises(ValueError, match=r"item: only one-element tensors .* got shape \(2,\)"):
        minicnn.zeros(2).item()


def test_len_of_a_scalar_raises():
    with pytest.raises(TypeError, match="0-d tensor"):
        len(minicnn.tensor(1.0))


def test_only_integer_tensors_index():
    assert [10, 20, 30][minicnn.tensor(1)] == 20
    with pytest.raises(TypeError, match="only integer tensors"):
        [10, 20][minicnn.tensor(1.0)]


def test_repr_shows_dtype_and_grad_state():
    assert repr(minicnn.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(minicnn.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "dtype=float64" in repr(minicnn.tensor(numpy.zeros(1)))
    y = minicnn.tensor([1.0], requires_grad=True) * 2
    assert "grad_fn=<Mul>" in repr(y)


def test_tensors_hash_by_identity():
    a, b = minicnn.tensor(1.0), minicnn.tensor(1.0)
    assert len({a, b}) == 2


def test_detach_shares_data_and_cuts_the_graph():
    x = leaf((3,))
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    d.data[0] = 100.0
    assert y.data[0] == 100.0


def test_requires_grad_cannot_be_turned_off_on_a_non_leaf():
    y = leaf((2,)) * 2
    with pytest.raises(RuntimeError, match="non-leaf tensor; use .detach"):
        y.requires_grad = False


def test_hook_sees_and_can_replace_the_gradient():
    x = leaf([1.0, 2.0])
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    y.register_hook(lambda g: g * 10)
    (y * y).backward(minicnn.tensor(numpy.ones(2)))
    numpy.testing.assert_allclose(seen[0], 2 * y.numpy())
    numpy.testing.assert_allclose(x.grad.numpy(), 10 * 2 * y.numpy() * 3)


def test_hook_on_a_leaf_and_removal():
    x = leaf([1.0, 2.0])
    handle = x.register_hook(lambda g: g * 0)
    (x * x).backward(minicnn.tensor(numpy.ones(2)))
    assert x.grad.numpy().tolist() == [0.0, 0.0]
    handle.remove()
    handle.remove()     # removing twice is harmless
    x.grad = None
    (x * x).backward(minicnn.tensor(numpy.ones(2)))
    assert x.grad.numpy().tolist() == [2.0, 4.0]


def test_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minicnn.zeros(2).register_hook(print)


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    kept, dropped = x * 2, x * 3
    kept.retain_grad()
    (kept * dropped).backward(minicnn.tensor(numpy.ones(2)))
    numpy.testing.assert_allclose(kept.grad.numpy(), dropped.numpy())
    assert dropped.grad is None
    assert not kept.grad.requires_grad


# --- the version counter ----------------------------------------------------------------------

def test_assigning_data_is_an_in_place_write():
    x = leaf([1.0, 2.0])
    assert x._version == 0
    x.data = numpy.zeros(2)
    assert x._version == 1
    x.data += 1                     # the same array again: still a write
    assert x._version == 2 and x.numpy().tolist() == [1.0, 1.0]


def test_views_of_one_memory_share_the_version_counter():
    x = leaf((2, 3))
    views = [x.reshape(3, 2), x[0], x.T, x.detach(), x.reshape(6)[1:4]]
    with minicnn.no_grad():
        views.append(x.reshape(3, 2))
    minicnn.autograd.increment_version(x)
    assert [v._version for v in views] == [1] * len(views)
    views[1].data += 1              # a write through a view is a write to x
    assert x._version == 2 and all(v._version == 2 for v in views)


def test_results_with_memory_of_their_own_keep_their_own_counter():
    x = leaf((2, 3))
    copies = [x * 1, x.T.reshape(6), x.sum(), x.exp()]    # x.T.reshape copies: not contiguous
    minicnn.autograd.increment_version(x)
    assert [c._version for c in copies] == [0] * len(copies)


def test_data_pointing_at_other_memory_leaves_the_old_views_alone():
    x = leaf((2, 3))
    view = x.reshape(6)
    x.data = numpy.ones((2, 3))
    assert (x._version, view._version) == (1, 0)
    minicnn.autograd.increment_version(x)
    assert (x._version, view._version) == (2, 0)


def test_writes_through_the_raw_array_are_not_counted():
    """As writes through torch's x.data: NumPy cannot tell minicnn; increment_version can."""
    x = leaf([1.0, 2.0])
    x.data[...] = 5.0
    assert x._version == 0
    minicnn.autograd.increment_version([x, x])
    assert x._version == 2


# --- the constructor ----------------------------------------------------------------------------

@pytest.mark.parametrize("data, received", [([[1.0, 2.0]], "list"), (3.0, "float"), (None, "NoneType")])
def test_tensor_constructor_takes_an_array_and_points_to_minicnn_tensor(data, received):
    with pytest.raises(TypeError, match=rf"Tensor: 'data' must be a NumPy or CuPy array, got "
                                        rf"{received}; minicnn.tensor\(data\) builds a tensor"):
        minicnn.Tensor(data)


def test_tensor_constructor_given_a_tensor_says_how_to_share_or_copy():
    with pytest.raises(TypeError, match=r"got Tensor; x.detach\(\) shares .* minicnn.tensor\(x\) copies"):
        minicnn.Tensor(minicnn.zeros(2))


def test_assigning_something_else_than_an_array_to_data_fails_and_changes_nothing():
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match=r"Tensor.data: the new value must be a NumPy or CuPy array, got list"):
        x.data = [3.0, 4.0]
    assert x.numpy().tolist() == [1.0, 2.0] and x._version == 0
