"""no_grad / enable_grad / set_grad_enabled as context managers and decorators."""
import pytest

import minicnn
from tests.helpers import leaf


def test_no_grad_records_nothing():
    x = leaf((2,))
    with minicnn.no_grad():
        y = x * 2
        assert not minicnn.is_grad_enabled()
    assert minicnn.is_grad_enabled()
    assert y.creator is None and not y.requires_grad


def test_enable_grad_inside_no_grad():
    x = leaf((2,))
    with minicnn.no_grad():
        with minicnn.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and y.creator is not None
    assert not z.requires_grad


def test_as_decorators():
    x = leaf((2,))

    @minicnn.no_grad()
    def evaluate():
        return x * 2

    @minicnn.enable_grad()
    def train_step():
        return x * 2

    assert not evaluate().requires_grad
    with minicnn.no_grad():
        assert train_step().requires_grad
    assert minicnn.is_grad_enabled()


def test_state_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with minicnn.no_grad():
            1 / 0
    assert minicnn.is_grad_enabled()


def test_set_grad_enabled():
    try:
        minicnn.set_grad_enabled(False)
        assert not (leaf((2,)) * 2).requires_grad
    finally:
        minicnn.set_grad_enabled(True)
    assert (leaf((2,)) * 2).requires_grad
