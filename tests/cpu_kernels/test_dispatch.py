"""Which kernel computes a convolution: the default rule, the named algorithms, 'auto' and its
saved choices, empty batches, and the errors of the algorithm functions."""
import json

import numpy
import pytest

import minicnn
import minicnn.functional as F
from minicnn.cpu_kernels import conv_numba, dispatch, im2col, winograd
from minicnn.cpu_kernels.conv_geometry import ConvGeometry
from minicnn.cpu_kernels.reference import conv as reference, pool as reference_pool


def geometry(kernel=3, stride=1, dilation=1, groups=1, size=8):
    padding = ((kernel // 2, kernel // 2),) * 2
    out = (size + 2 * (kernel // 2) - dilation * (kernel - 1) - 1) // stride + 1
    return ConvGeometry((size, size), (out, out), (kernel, kernel), (stride, stride), padding,
                        (dilation, dilation), groups)


def arrays(g, channels, out_channels=8, batch=2):
    """The arrays of each product: (x, weight), (gy, weight), (x, gy)."""
    x = numpy.zeros((batch, channels) + g.in_size, numpy.float32)
    weight = numpy.zeros((out_channels, channels // g.groups) + g.kernel, numpy.float32)
    gy = numpy.zeros((batch, out_channels) + g.out_size, numpy.float32)
    return {"forward": (x, weight), "input_grad": (gy, weight), "weight_grad": (x, gy)}


@pytest.fixture
def algorithm():
    """Set an algorithm for one test; the default comes back after it."""
    yield F.set_conv_algorithm
    F.set_conv_algorithm("default")


@pytest.mark.parametrize("g, channels, expected", [
    (geometry(), 16, winograd),
    (geometry(), 64, winograd),
    (geometry(), 15, conv_numba),                       # too few channels for Winograd to pay
    (geometry(stride=2), 64, conv_numba),
    (geometry(kernel=5), 64, conv_numba),
    (geometry(dilation=2), 64, conv_numba),
    (geometry(groups=2), 64, conv_numba),
    (geometry(kernel=1), 64, conv_numba),
])
def test_the_default_rule_depends_on_the_layer_alone(g, channels, expected):
    assert F.get_conv_algorithm() == "default"
    for product, operands in arrays(g, channels).items():
        assert dispatch._conv_kernel(product, g, operands, {}) is expected, product


@pytest.mark.parametrize("name, kernel", [("reference", reference), ("im2col", im2col),
                                          ("numba", conv_numba), ("winograd", winograd)])
def test_a_named_algorithm_computes_every_product(algorithm, name, kernel):
    algorithm(name)
    for product, operands in arrays(geometry(), 4).items():
        assert dispatch._conv_kernel(product, geometry(), operands, {}) is kernel
    assert F.get_conv_algorithm() == name


def test_winograd_falls_back_to_numba_where_it_does_not_apply(algorithm):
    algorithm("winograd")
    g = geometry(stride=2)
    assert dispatch._conv_kernel("forward", g, arrays(g, 32)["forward"], {}) is conv_numba


def test_an_empty_batch_goes_to_the_reference_whatever_the_algorithm(algorithm):
    g = geometry()
    for name in dispatch.ALGORITHMS:
        algorithm(name)
        for product, operands in arrays(g, 32, batch=0).items():
            assert dispatch._conv_kernel(product, g, operands, {}) is reference
    assert dispatch._pool_kernels(numpy.zeros((0, 4, 4))) is reference_pool


def test_reference_trains_through_conv2d(algorithm, monkeypatch):
    """'reference' sends conv2d's forward and both gradients through reference/conv.py."""
    calls = []
    for product in ("forward", "input_grad", "weight_grad"):
        original = getattr(reference, product)
        monkeypatch.setattr(reference, product, lambda *a, original=original, product=product, **k:
                            calls.append(product) or original(*a, **k))
    algorithm("reference")
    x = minicnn.randn(2, 3, 6, 6, requires_grad=True)
    w = minicnn.randn(4, 3, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert sorted(calls) == ["forward", "input_grad", "weight_grad"]


def test_auto_records_its_choices_and_replays_them(algorithm, monkeypatch):
    """The records are JSON; set back after the choices are forgotten, they are used without
    any timing, and give the same kernels."""
    monkeypatch.setattr(dispatch, "_fastest", {})
    algorithm("auto")
    g = geometry()
    operands = arrays(g, 16)
    chosen = {product: dispatch._conv_kernel(product, g, operands[product], {}) for product in operands}
    records = json.loads(json.dumps(F.conv_algorithm_choices()))
    assert sorted(record["product"] for record in records) == sorted(operands)
    assert {record["kernel"] for record in records} <= {"im2col", "numba", "winograd"}

    monkeypatch.setattr(dispatch, "_fastest", {})
    monkeypatch.setattr(dispatch, "_seconds", lambda *a, **k: pytest.fail("timed again"))
    F.set_conv_algorithm_choices(records)
    for product in operands:
        assert dispatch._conv_kernel(product, g, operands[product], {}) is chosen[product]
    assert json.loads(json.dumps(F.conv_algorithm_choices())) == records


def test_auto_times_only_the_kernels_that_apply(algorithm, monkeypatch):
    timed = []
    monkeypatch.setattr(dispatch, "_fastest", {})
    monkeypatch.setattr(dispatch, "_seconds", lambda function, *a, **k: timed.append(function.__module__) or 1.0)
    algorithm("auto")
    g = geometry(stride=2)
    dispatch._conv_kernel("forward", g, arrays(g, 16)["forward"], {})
    assert "minicnn.cpu_kernels.winograd" not in timed and "minicnn.cpu_kernels.conv_numba" in timed


@pytest.mark.parametrize("call, message", [
    (lambda: F.set_conv_algorithm("fast"),
     r"set_conv_algorithm: expected 'default', 'reference', 'im2col', 'numba', 'winograd' or 'auto', got 'fast'"),
    (lambda: F.set_conv_algorithm_choices([{"product": "forward"}]),
     r"set_conv_algorithm_choices: record 0 is not a record of conv_algorithm_choices \(KeyError\('geometry'\)\)"),
    (lambda: F.set_conv_algorithm_choices([{"product": "forward", "geometry": {
        "in_size": [8, 8], "out_size": [8, 8], "kernel": [3, 3], "stride": [1, 1],
        "padding": [[1, 1], [1, 1]], "dilation": [1, 1], "groups": 1},
        "shapes": [[1, 1, 8, 8], [1, 1, 3, 3]], "dtype": "float32", "threads": 1, "kernel": "fft"}]),
     r"set_conv_algorithm_choices: record 0 names product 'forward' and kernel 'fft'; expected"),
])
def test_bad_choices_are_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()
