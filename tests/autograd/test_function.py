"""Writing a custom Function: forward on arrays, backward on Tensors, used like any op."""
import itertools

import numpy
import pytest

import minicnn
from minicnn import Function
from minicnn.backend import array_module
from tests.helpers import leaf


class Exp(Function):
    """y = exp(x).   dL/dx = dL/dy * y."""

    def forward(self, x):
        return array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.outputs[0]


class SplitSign(Function):
    """Two outputs: (max(x, 0), min(x, 0)).   dL/dx = dL/dpos * [x > 0] + dL/dneg * [x <= 0]."""

    def forward(self, x):
        xp = array_module(x)
        return xp.maximum(x, 0), xp.minimum(x, 0)

    def backward(self, g_positive, g_negative):
        positive = minicnn.Tensor((self.inputs[0].data > 0).astype(g_positive.dtype))
        return g_positive * positive + g_negative * (1 - positive)


class ArgMaxLike(Function):
    differentiable = False

    def forward(self, x):
        return array_module(x).argmax(x, keepdims=True)


def test_custom_exp_forward_backward(device):
    x = leaf([0.0, 1.0, -2.0], device)
    y = Exp()(x)
    assert isinstance(y.creator, Exp) and y.creator.inputs[0] is x
    numpy.testing.assert_allclose(y.numpy(), numpy.exp(x.numpy()))
    y.backward(minicnn.ones_like(y))
    numpy.testing.assert_allclose(x.grad.numpy(), numpy.exp(x.numpy()))


def test_custom_exp_passes_gradcheck_and_gradgradcheck(device):
    x = leaf((3,), device)
    assert minicnn.gradcheck(lambda t: Exp()(t), x)
    assert minicnn.gradgradcheck(lambda t: Exp()(t), x)


def test_function_with_two_outputs_and_an_unused_one():
    x = leaf([-1.0, 2.0])
    positive, negative = SplitSign()(x)
    assert positive.creator is negative.creator
    positive.backward(minicnn.ones_like(positive))     # negative gets a zero gradient
    assert x.grad.numpy().tolist() == [0.0, 1.0]
    assert minicnn.gradcheck(lambda t: SplitSign()(t), leaf([-1.0, 2.0, 0.5]))


def test_python_scalars_become_tensors_of_the_tensor_dtype():
    x = leaf([1.0], dtype=numpy.float32)
    assert Exp()(0.5).dtype == numpy.float32
    assert minicnn.functional.add(x, 2.5).dtype == numpy.float32


def test_non_differentiable_function_records_nothing():
    y = ArgMaxLike()(leaf([1.0, 3.0, 2.0]))
    assert y.numpy().tolist() == [1] and not y.requires_grad and y.creator is None


def test_forward_and_backward_must_be_implemented():
    with pytest.raises(NotImplementedError, match="Function must implement forward"):
        Function()(leaf((1,)))
    with pytest.raises(NotImplementedError, match="Incomplete must implement backward"):
        type("Incomplete", (Function,), {"forward": lambda self, x: x})()(leaf((1,))).backward(
            minicnn.ones(1, dtype="float64"))


def test_function_name_is_the_lowercase_class_name():
    assert Exp().name == "exp" and repr(Exp()) == "<Exp>"


# --- saved tensors and in-place writes ----------------------------------------------------------

MODIFIED = (r"one of the variables needed for gradient computation has been modified by an "
            r"inplace operation: \[float64 tensor of shape {shape}\], which is {role} of {op}, "
            r"is at version 1; expected version 0 instead\. Hint: ")


def test_a_saved_input_written_in_place_makes_backward_raise():
    w = leaf([1.0, 2.0, 3.0])
    y = (w * 2.0).sum()              # Mul reads the constant 2 for w's gradient, not w
    z = (w * w).sum()                # but w * w reads w
    w.data += 1
    y.backward()
    with pytest.raises(RuntimeError, match=MODIFIED.format(shape=r"\(3,\)", role="input [01]", op="Mul")):
        z.backward()


def test_a_saved_output_written_in_place_makes_backward_raise():
    x = leaf((2, 3))
    y = minicnn.functional.sigmoid(x)                # backward reads y
    loss = y.sum()
    y.data += 1
    with pytest.raises(RuntimeError, match=MODIFIED.format(shape=r"\(2, 3\)", role="output 0", op="Sigmoid")):
        loss.backward()


def test_a_write_through_another_view_of_the_same_memory_is_seen():
    x = leaf((2, 3))
    row = x[0]
    loss = (row * row).sum()
    x.detach().data += 1
    with pytest.raises(RuntimeError, match=MODIFIED.format(shape=r"\(3,\)", role="input [01]", op="Mul")):
        loss.backward()


def test_a_function_without_saved_is_checked_on_all_its_inputs_and_outputs():
    x = leaf((2,))
    y = Exp()(x)                     # this test file's Exp declares nothing
    loss = y.sum()
    minicnn.autograd.increment_version(x)
    with pytest.raises(RuntimeError, match=MODIFIED.format(shape=r"\(2,\)", role="input 0", op="Exp")):
        loss.backward()


def test_a_retained_graph_is_checked_again_at_the_second_backward():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    minicnn.autograd.increment_version(w)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0 instead"):
        loss.backward()


def test_a_graph_recorded_by_a_backward_checks_what_it_saved():
    w = leaf([1.0, 2.0])
    (gradient,) = minicnn.grad((w * w * w).sum(), [w], create_graph=True)
    second = gradient.sum()
    minicnn.autograd.increment_version(w)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0 instead"):
        second.backward()


def test_without_writes_second_derivatives_are_unchanged():
    w = leaf([1.0, 2.0])
    (gradient,) = minicnn.grad((w * w * w).sum(), [w], create_graph=True)
    (second,) = minicnn.grad(gradient.sum(), [w])
    numpy.testing.assert_allclose(second.numpy(), 6 * w.numpy())


F = minicnn.functional
CONSTANT = numpy.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


@pytest.mark.parametrize("op", [
    lambda w, c: w + c, lambda w, c: c - w, lambda w, c: -w, lambda w, c: c * w,
    lambda w, c: w / c, lambda w, c: w.reshape(3, 2), lambda w, c: w[1:], lambda w, c: w.T,
    lambda w, c: w.sum(dim=0), lambda w, c: w.mean(), lambda w, c: F.cat([w, c]),
    lambda w, c: w[0].expand(4, 3), lambda w, c: F.linear(c, w), lambda w, c: c @ w.T,
    lambda w, c: F.sigmoid(w), lambda w, c: F.softmax(w), lambda w, c: w.exp(),
    lambda w, c: F.max_pool2d(w.reshape(1, 1, 2, 3), 2), lambda w, c: F.pad(w, (1, 1)),
    lambda w, c: F.where(c > 0, w, c), lambda w, c: w.astype("float32"),
    lambda w, c: F.conv2d(c.reshape(1, 1, 2, 3), w.reshape(1, 1, 2, 3)),
], ids=["add", "sub", "neg", "constant*w", "w/constant", "reshape", "slice", "T", "sum", "mean",
        "cat", "expand", "linear of constant", "matmul of constant", "sigmoid", "softmax", "exp",
        "max_pool2d", "pad", "where", "astype", "conv2d of constant"])
def test_ops_whose_gradient_does_not_read_the_written_tensor_do_not_raise(op):
    """As PyTorch: only what a backward needs is checked, so the gradient stays right."""
    def gradient(write):
        w = leaf(numpy.arange(6.0).reshape(2, 3) / 4)
        loss = (op(w, minicnn.tensor(CONSTANT)) * 1.5).sum()
        if write:
            w.data += 1
        loss.backward()
        return w.grad.numpy()
    numpy.testing.assert_array_equal(gradient(write=True), gradient(write=False))


def test_saved_must_name_inputs_and_outputs_of_forward():
    with pytest.raises(TypeError, match=r"Bad.saved: 'z' is not an input of Bad.forward\('x',\)$"):
        type("Bad", (Function,), {"saved": {"z": "x"}, "forward": lambda self, x: x})
    with pytest.raises(TypeError, match=r"Bad.saved: 'q' is not an input of Bad.forward\('x',\) "
                                        r"nor an output \('y', 'y0', 'y1', ...\)"):
        type("Bad", (Function,), {"saved": {"x": ("x", "q")}, "forward": lambda self, x: x})


# --- every op's `saved` lists all that its backward reads ---------------------------------------

def _normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def _positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def _probability(*shape):
    return lambda rng: rng.uniform(0.1, 0.9, shape)


def _mask(*shape):
    return lambda rng: rng.random(shape) > 0.5


def _saved_cases():
    """{Function class name: (a factory of the Function, one maker of input values per input)}."""
    from minicnn.backend import Device
    from minicnn.functional import (activation, arithmetic, broadcast, conv, conversion,
                                    elementwise, fake_quantize, loss, matrix, norm, padding, pool,
                                    reduce, roi, shape)
    probe = minicnn.zeros(1, 2, 5, 5, requires_grad=True)
    conv_geometry = F.conv2d(probe, minicnn.zeros(3, 2, 3, 3)).creator.geometry
    max_geometry = F.max_pool2d(probe[:, :, :4, :4], 2).creator.geometry
    avg_geometry = F.avg_pool2d(probe[:, :, :4, :4], 2).creator.geometry
    gather = F.pad(probe[0, :, 0], (1, 1), mode="reflect").creator
    planes = (gather.index, gather.in_plane, gather.out_plane)
    relu_input = numpy.random.default_rng(1).standard_normal((2, 3))
    one_hot = numpy.eye(3)[[2, 0]]
    rois = numpy.array([[0, 0.5, 1, 4, 3.5], [0, 2, 0, 5, 5]])
    align_geometry = F.roi_align(probe, rois, 2, sampling_ratio=2, aligned=True).creator.geometry
    roi_pool_geometry = F.roi_pool(probe, rois, 2).creator.geometry
    return {
        "Add": (arithmetic.Add, [_normal(2, 3), _normal(3)]),
        "Sub": (arithmetic.Sub, [_normal(2, 3), _normal(3)]),
        "Mul": (arithmetic.Mul, [_normal(2, 3), _normal(3)]),
        "Div": (arithmetic.Div, [_normal(2, 3), _positive(3)]),
        "Neg": (arithmetic.Neg, [_normal(2, 3)]),
        "Pow": (arithmetic.Pow, [_positive(2, 3), _normal(2, 3)]),
        "Exp": (elementwise.Exp, [_normal(2, 3)]),
        "Log": (elementwise.Log, [_positive(2, 3)]),
        "Log1p": (elementwise.Log1p, [_positive(2, 3)]),
        "Sqrt": (elementwise.Sqrt, [_positive(2, 3)]),
        "Abs": (elementwise.Abs, [_normal(2, 3)]),
        "Sin": (elementwise.Sin, [_normal(2, 3)]),
        "Cos": (elementwise.Cos, [_normal(2, 3)]),
        "Clip": (lambda: elementwise.Clip(-0.5, 0.5), [_normal(2, 3)]),
        "Where": (elementwise.Where, [_mask(2, 3), _normal(2, 3), _normal(3)]),
        "ReLU": (activation.ReLU, [_normal(2, 3)]),
        "PassWherePositive": (lambda: activation.PassWherePositive(relu_input), [_normal(2, 3)]),
        "LeakyReLU": (lambda: activation.LeakyReLU(0.1), [_normal(2, 3)]),
        "ELU": (lambda: activation.ELU(1.0), [_normal(2, 3)]),
        "Erf": (activation.Erf, [_normal(2, 3)]),
        "GELU": (activation.GELU, [_normal(2, 3)]),
        "Sigmoid": (activation.Sigmoid, [_normal(2, 3)]),
        "Tanh": (activation.Tanh, [_normal(2, 3)]),
        "Softplus": (lambda: activation.Softplus(1.0, 20.0), [_normal(2, 3)]),
        "Softmax": (lambda: activation.Softmax(1), [_normal(2, 3)]),
        "LogSoftmax": (lambda: activation.LogSoftmax(1), [_normal(2, 3)]),
        "BroadcastTo": (lambda: broadcast.BroadcastTo((2, 3)), [_normal(3)]),
        "SumTo": (lambda: broadcast.SumTo((3,)), [_normal(2, 3)]),
        "Cast": (lambda: conversion.Cast(numpy.float32), [_normal(2, 3)]),
        "ToDevice": (lambda: conversion.ToDevice(Device("cpu")), [_normal(2, 3)]),
        "ConstantPad": (lambda: padding.ConstantPad([(1, 0), (0, 2)]), [_normal(2, 3)]),
        "Sum": (lambda: reduce.Sum((1,), False), [_normal(2, 3)]),
        "Mean": (lambda: reduce.Mean((1,), False), [_normal(2, 3)]),
        "Var": (lambda: reduce.Var((1,), False, 1), [_normal(2, 3)]),
        "Std": (lambda: reduce.Std((1,), False, 1), [_normal(2, 3)]),
        "Max": (lambda: reduce.Max((1,), False), [_normal(2, 3)]),
        "Min": (lambda: reduce.Min((1,), False), [_normal(2, 3)]),
        "LogSumExp": (lambda: reduce.LogSumExp((1,), False), [_normal(2, 3)]),
        "Reshape": (lambda: shape.Reshape((3, 2)), [_normal(2, 3)]),
        "Permute": (lambda: shape.Permute((1, 0)), [_normal(2, 3)]),
        "Concatenate": (lambda: shape.Concatenate(0), [_normal(2, 3), _normal(1, 3)]),
        "Split": (lambda: shape.Split([1, 1], 0), [_normal(2, 3)]),
        "Index": (lambda: shape.Index((slice(0, 1),)), [_normal(2, 3)]),
        "IndexBackward": (lambda: shape.IndexBackward((numpy.array([0, 0]),), (3,)), [_normal(2)]),
        "MatMul": (matrix.MatMul, [_normal(2, 3), _normal(3, 4)]),
        "Linear": (matrix.Linear, [_normal(2, 3), _normal(4, 3), _normal(4)]),
        "Normalize": (lambda: norm.Normalize((0,), 1e-5), [_normal(4, 3)]),
        "SoftmaxCrossEntropy": (lambda: loss.SoftmaxCrossEntropy(one_hot, 1), [_normal(2, 3)]),
        "BinaryCrossEntropy": (loss.BinaryCrossEntropy, [_probability(2, 3), _probability(2, 3)]),
        "Conv": (lambda: conv.Conv(conv_geometry),
                 [_normal(1, 2, 5, 5), _normal(3, 2, 3, 3), _normal(3)]),
        "ConvTranspose": (lambda: conv.ConvTranspose(conv_geometry),
                          [_normal(1, 3, 3, 3), _normal(3, 2, 3, 3), _normal(2)]),
        "ConvWeightGrad": (lambda: conv.ConvWeightGrad(conv_geometry),
                           [_normal(1, 2, 5, 5), _normal(1, 3, 3, 3)]),
        "ChannelSum": (conv.ChannelSum, [_normal(2, 3, 2, 2)]),
        "ChannelBroadcast": (lambda: conv.ChannelBroadcast((2, 3, 2, 2)), [_normal(3)]),
        "MaxPool": (lambda: pool.MaxPool(max_geometry), [_normal(1, 2, 4, 4)]),
        "AvgPool": (lambda: pool.AvgPool(avg_geometry), [_normal(1, 2, 4, 4)]),
        "AvgPoolBackward": (lambda: pool.AvgPoolBackward(avg_geometry), [_normal(1, 2, 2, 2)]),
        "GatherPlanes": (lambda: pool.GatherPlanes(*planes), [_normal(2, 5)]),
        "ScatterPlanes": (lambda: pool.ScatterPlanes(*planes), [_normal(2, 7)]),
        "FakeQuantize": (lambda: fake_quantize.FakeQuantize(0.25, 1, -8, 7), [_normal(2, 3)]),
        "RoIAlign": (lambda: roi.RoIAlign(align_geometry), [_normal(1, 2, 5, 5)]),
        "RoIAlignBackward": (lambda: roi.RoIAlignBackward(align_geometry), [_normal(2, 2, 2, 2)]),
        "RoIPool": (lambda: roi.RoIPool(roi_pool_geometry), [_normal(1, 2, 5, 5)]),
    }


SAVED_CASES = _saved_cases()


def _subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def test_every_differentiable_op_has_a_saved_case():
    ops = {c.__name__ for c in _subclasses(Function) if c.__module__.startswith("minicnn.functional")
           and c.differentiable and not c.__name__.startswith("_")}
    assert ops - set(SAVED_CASES) == set()


def _gradients(case, values, chosen, create_graph, scramble):
    """The gradients of the chosen inputs; with scramble, after overwriting (unseen, through
    the raw arrays) every input and output that the Function did not record as read."""
    make, _ = case
    inputs = [minicnn.tensor(v.copy(), requires_grad=i in chosen) for i, v in enumerate(values)]
    outputs = make()(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    function = outputs[0].creator
    if scramble:
        rng = numpy.random.default_rng(2)
        recorded = {(is_output, position) for is_output, position, _ in function._saved_versions}
        read = [(outputs if is_output else inputs)[position].data for is_output, position in recorded]
        others = ([t for k, t in enumerate(inputs) if (False, k) not in recorded]
                  + [t for k, t in enumerate(outputs) if (True, k) not in recorded])
        for tensor in others:
            array = tensor.data
            if array.flags.writeable and not any(numpy.shares_memory(array, r) for r in read):
                # Integers (indices) are moved rather than invented, so they stay in range.
                array[...] = (~array if array.dtype == bool else numpy.flip(array).copy()
                              if array.dtype.kind in "iu" else rng.standard_normal(array.shape) * 3 + 1)
    floating = [y for y in outputs if y.dtype.kind == "f"]
    rng = numpy.random.default_rng(3)
    seeds = [minicnn.tensor(rng.standard_normal(y.shape).astype(y.dtype)) for y in floating]
    grads = minicnn.grad(floating, [inputs[i] for i in chosen], seeds,
                         create_graph=create_graph, allow_unused=True)
    return [None if g is None else g.numpy() for g in grads]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", sorted(SAVED_CASES))
def test_backward_reads_no_value_that_saved_leaves_out(name, create_graph):
    """Overwriting what an op does not declare in `saved` leaves its gradients as they were:
    its declaration lists everything its backward reads."""
    case = SAVED_CASES[name]
    values = [make(numpy.random.default_rng(k)) for k, make in enumerate(case[1])]
    floating = [i for i, v in enumerate(values) if v.dtype.kind == "f"]
    for count in range(1, len(floating) + 1):
        for chosen in itertools.combinations(floating, count):
            clean = _gradients(case, values, chosen, create_graph, scramble=False)
            scrambled = _gradients(case, values, chosen, create_graph, scramble=True)
            for position, a, b in zip(chosen, clean, scrambled):
                numpy.testing.assert_array_equal(a, b, err_msg=f"{name}: the gradient of input "
                                                 f"{position} read a value `saved` leaves out")
