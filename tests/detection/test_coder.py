"""BoxCoder: known codes, decode inverts encode, the clamp, per-class codes, gradients."""
import math

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn.detection.coder import BoxCoder
from tests.helpers import leaf


def random_boxes(rng, n):
    corners = rng.uniform(-20, 50, (n, 2))
    return numpy.concatenate([corners, corners + rng.uniform(1, 40, (n, 2))], axis=1)


def test_known_codes():
    anchors = numpy.array([[0, 0, 10, 20.]])               # centre (5, 10), size 10 x 20
    boxes = numpy.array([[2, 4, 22, 24.]])                 # centre (12, 14), size 20 x 20
    codes = BoxCoder().encode(boxes, anchors)
    numpy.testing.assert_allclose(codes, [[10 * 7 / 10, 10 * 4 / 20, 5 * math.log(2), 0]])
    numpy.testing.assert_allclose(BoxCoder((1, 1, 1, 1)).encode(boxes, anchors),
                                  [[0.7, 0.2, math.log(2), 0]])


@given(st.integers(0, 2**32 - 1), st.sampled_from([(10, 10, 5, 5), (1, 1, 1, 1), (2, 3, 4, 5)]))
def test_decode_inverts_encode(seed, weights):
    rng = numpy.random.default_rng(seed)
    anchors, boxes = random_boxes(rng, 7), random_boxes(rng, 7)
    coder = BoxCoder(weights)
    numpy.testing.assert_allclose(coder.decode(coder.encode(boxes, anchors), anchors), boxes,
                                  atol=1e-9)
    numpy.testing.assert_allclose(coder.encode(coder.decode(coder.encode(boxes, anchors), anchors),
                                               anchors), coder.encode(boxes, anchors), atol=1e-9)


def test_decode_clamps_growth_at_1000_over_16():
    anchors = numpy.array([[0, 0, 2, 4.]])
    boxes = BoxCoder().decode(numpy.array([[0, 0, 1000, 5 * math.log(3)]]), anchors)
    numpy.testing.assert_allclose(boxes, [[1 - 62.5, 2 - 6, 1 + 62.5, 2 + 6]])


def test_per_class_codes():
    rng = numpy.random.default_rng(0)
    anchors = random_boxes(rng, 3)
    per_class = [random_boxes(rng, 3) for _ in range(2)]
    coder = BoxCoder()
    codes = numpy.concatenate([coder.encode(b, anchors) for b in per_class], axis=1)
    numpy.testing.assert_allclose(coder.decode(codes, anchors),
                                  numpy.concatenate(per_class, axis=1), atol=1e-9)


def test_decode_is_differentiable():
    rng = numpy.random.default_rng(0)
    anchors = random_boxes(rng, 3)
    codes = leaf(rng.normal(0, 2, (3, 8)))
    assert minicnn.gradcheck(lambda c: BoxCoder().decode(c, anchors), (codes,))


def test_bad_input_is_named():
    anchors = numpy.array([[0, 0, 10, 20.]])
    with pytest.raises(ValueError, match=r"BoxCoder.decode: codes must have shape \(1, 4 K\), one row per anchor, got \(2, 4\)"):
        BoxCoder().decode(numpy.zeros((2, 4)), anchors)
    with pytest.raises(ValueError, match=r"BoxCoder.encode: anchors must be \(x0, y0, x1, y1\)"):
        BoxCoder().encode(anchors, numpy.array([[5, 0, 1, 1.]]))
    with pytest.raises(ValueError, match="BoxCoder: weights must be four positive numbers"):
        BoxCoder((1, 1, 0, 1))
