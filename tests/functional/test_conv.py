"""conv1d, conv2d, conv_transpose2d: gradients, PyTorch parity with every CPU algorithm, empty
batches, bad input."""
import numpy
import pytest
from hypothesis import assume, given, strategies as st

import minicnn.functional as F
from minicnn.autograd import gradcheck, gradgradcheck
from tests.helpers import assert_close, covers, leaf, to_torch


@pytest.fixture(params=["default", "reference", "im2col", "numba", "winograd"])
def algorithm(request):
    """Run a test with each CPU algorithm, then go back to the default."""
    F.set_conv_algorithm(request.param)
    yield request.param
    F.set_conv_algorithm("default")


@st.composite
def conv_cases(draw, spatial=2, transposed=False):
    """Tiny random convolutions: every gradcheck costs a backward per output element.
    Sizes are at least the dilated kernel, so every output is non-empty."""
    pick = lambda values: tuple(draw(st.sampled_from(values)) for _ in range(spatial))
    groups = draw(st.sampled_from([1, 2]))
    kernel, stride, dilation = pick([1, 2, 3]), pick([1, 2]), pick([1, 2])
    size = tuple(draw(st.integers(d * (k - 1) + 1, 5)) for d, k in zip(dilation, kernel))
    padding = pick([0, 1])
    if not transposed and all(s == 1 for s in stride) and draw(st.booleans()):
        padding = draw(st.sampled_from(["same", "valid"]))
    case = dict(batch=draw(st.sampled_from([1, 2])), groups=groups,
                in_channels=groups * draw(st.sampled_from([1, 2])),
                out_channels=groups * draw(st.sampled_from([1, 2])),
                size=size, kernel=kernel, stride=stride, dilation=dilation, padding=padding)
    if transposed:
        output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        case["output_padding"] = output_padding
        out = [(n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, s, p, d, k, e
               in zip(size, stride, padding, dilation, kernel, output_padding)]
        assume(min(out) >= 1)
    return case


def make(case, device, dtype=numpy.float64, transposed=False):
    """Input, weight and bias leaves for a case (weight in PyTorch's layout for the op)."""
    g, cin, cout = case["groups"], case["in_channels"], case["out_channels"]
    weight_shape = (cin, cout // g) if transposed else (cout, cin // g)
    bias_size = cout
    x = leaf((case["batch"], cin) + case["size"], device, dtype=dtype)
    w = leaf(weight_shape + case["kernel"], device, dtype=dtype)
    b = leaf((bias_size,), device, dtype=dtype)
    return x, w, b


def conv2d_of(case):
    return lambda x, w, b: F.conv2d(x, w, b, case["stride"], case["padding"], case["dilation"], case["groups"])


def conv1d_of(case):
    stride, padding, dilation = case["stride"][0], case["padding"], case["dilation"][0]
    padding = padding if isinstance(padding, str) else padding[0]
    return lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, case["groups"])


def conv_transpose2d_of(case):
    return lambda x, w, b: F.conv_transpose2d(x, w, b, case["stride"], case["padding"],
                                              case["output_padding"], case["groups"], case["dilation"])


def torch_conv(torch, name, case):
    """The matching PyTorch call (1-d arguments unwrapped from their 1-tuples)."""
    functional = torch.nn.functional
    if name == "conv1d":
        padding = case["padding"] if isinstance(case["padding"], str) else case["padding"][0]
        return lambda x, w, b: functional.conv1d(x, w, b, case["stride"][0], padding,
                                                 case["dilation"][0], case["groups"])
    if name == "conv2d":
        return lambda x, w, b: functional.conv2d(x, w, b, case["stride"], case["padding"],
                                                 case["dilation"], case["groups"])
    return lambda x, w, b: functional.conv_transpose2d(x, w, b, case["stride"], case["padding"],
                                                       case["output_padding"], case["groups"],
                                                       case["dilation"])


# --- gradients ------------------------------------------------------------------------------

@covers("conv2d")
@given(case=conv_cases())
def test_conv2d_gradcheck(device, case):
    assert gradcheck(conv2d_of(case), make(case, device))


@covers("conv1d")
@given(case=conv_cases(spatial=1))
def test_conv1d_gradcheck(device, case):
    assert gradcheck(conv1d_of(case), make(case, device))


@covers("conv_transpose2d")
@given(case=conv_cases(transposed=True))
def test_conv_transpose2d_gradcheck(device, case):
    assert gradcheck(conv_transpose2d_of(case), make(case, device, transposed=True))


SECOND_ORDER = dict(batch=1, groups=2, in_channels=2, out_channels=2, size=(3, 4), kernel=(2, 3),
                    stride=(2, 1), dilation=(1, 1), padding=(1, 0), output_padding=(1, 0))


def test_conv2d_gradgradcheck(device, algorithm):
    assert gradgradcheck(conv2d_of(SECOND_ORDER), make(SECOND_ORDER, device))


def test_conv_transpose2d_gradgradcheck(device, algorithm):
    case = dict(SECOND_ORDER, size=(2, 3))
    assert gradgradcheck(conv_transpose2d_of(case), make(case, device, transposed=True))


# --- PyTorch parity, forward and backward ----------------------------------------------------

PARITY = {
    "conv2d": [
        dict(batch=3, groups=1, in_channels=3, out_channels=4, size=(9, 8), kernel=(3, 3),
             stride=(1, 1), dilation=(1, 1), padding=(1, 1)),
        dict(batch=2, groups=2, in_channels=4, out_channels=6, size=(10, 7), kernel=(3, 2),
             stride=(2, 3), dilation=(2, 1), padding=(2, 0)),
        dict(batch=2, groups=4, in_channels=4, out_channels=8, size=(7, 7), kernel=(3, 3),
             stride=(1, 1), dilation=(1, 1), padding=(1, 1)),                      # depthwise
        dict(batch=1, groups=1, in_channels=2, out_channels=3, size=(6, 5), kernel=(4, 2),
             stride=(1, 1), dilation=(1, 2), padding="same"),                      # odd split
    ],
    "conv1d": [
        dict(batch=4, groups=1, in_channels=5, out_channels=3, size=(17,), kernel=(4,),
             stride=(2,), dilation=(1,), padding=(1,)),
        dict(batch=2, groups=3, in_channels=3, out_channels=6, size=(9,), kernel=(3,),
             stride=(1,), dilation=(2,), padding="same"),
    ],
    "conv_transpose2d": [
        dict(batch=2, groups=1, in_channels=3, out_channels=4, size=(5, 4), kernel=(3, 3),
             stride=(2, 2), dilation=(1, 1), padding=(1, 1), output_padding=(1, 0)),
        dict(batch=1, groups=2, in_channels=4, out_channels=2, size=(3, 6), kernel=(2, 3),
             stride=(1, 2), dilation=(2, 1), padding=(0, 1), output_padding=(1, 1)),
        dict(batch=2, groups=3, in_channels=3, out_channels=3, size=(4, 4), kernel=(3, 3),
             stride=(2, 2), dilation=(1, 1), padding=(1, 1), output_padding=(0, 0)),  # depthwise
    ],
}
CASES = [(name, index) for name, cases in PARITY.items() for index in range(len(cases))]
OPS = {"conv2d": conv2d_of, "conv1d": conv1d_of, "conv_transpose2d": conv_transpose2d_of}


# PyTorch warns that it copies the input for padding='same' with an even kernel; we test it on purpose.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name, index", CASES)
@pytest.mark.parametrize("dtype, tolerance", [(numpy.float64, 1e-10), (numpy.float32, 1e-4)])
def test_matches_pytorch(torch, device, algorithm, name, index, dtype, tolerance):
    case = PARITY[name][index]
    x, w, b = make(case, device, dtype, transposed=name == "conv_transpose2d")
    y = OPS[name](case)(x, w, b)
    tx, tw, tb = (to_torch(torch, t) for t in (x, w, b))
    ty = torch_conv(torch, name, case)(tx, tw, tb)
    assert_close(y, ty, rtol=tolerance, atol=tolerance)

    upstream = numpy.random.standard_normal(y.shape).astype(dtype)
    y.backward(leaf(upstream, device, requires_grad=False, dtype=dtype))
    ty.backward(torch.tensor(upstream))
    for ours, theirs in [(x, tx), (w, tw), (b, tb)]:
        assert ours.grad.dtype == ours.dtype
        assert_close(ours.grad, theirs.grad, rtol=tolerance, atol=tolerance)


def test_auto_chooses_per_shape_and_agrees(torch):
    """'auto' times the kernels on a new shape and returns the same values as PyTorch."""
    case = PARITY["conv2d"][1]
    x, w, b = make(case, "cpu")
    F.set_conv_algorithm("auto")
    try:
        for _ in range(2):   # the first call times the kernels, the second uses the choice
            y = conv2d_of(case)(x, w, b)
            ty = torch_conv(torch, "conv2d", case)(*(to_torch(torch, t) for t in (x, w, b)))
            assert_close(y, ty)
    finally:
        F.set_conv_algorithm("default")


# --- an empty batch ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, index", [("conv2d", 0), ("conv2d", 1), ("conv1d", 0),
                                         ("conv_transpose2d", 0), ("conv_transpose2d", 2)])
def test_an_empty_batch_gives_what_pytorch_gives(torch, device, algorithm, name, index):
    """N = 0: an empty output of the right shape, an empty input gradient, and zero weight
    and bias gradients, as in PyTorch."""
    case = dict(PARITY[name][index], batch=0)
    x, w, b = make(case, device, transposed=name == "conv_transpose2d")
    y = OPS[name](case)(x, w, b)
    tx, tw, tb = (to_torch(torch, t) for t in (x, w, b))
    ty = torch_conv(torch, name, case)(tx, tw, tb)
    assert y.shape == tuple(ty.shape) and y.shape[0] == 0
    y.sum().backward()
    ty.sum().backward()
    for ours, theirs in [(x, tx), (w, tw), (b, tb)]:
        assert ours.grad.shape == tuple(theirs.grad.shape)
        assert_close(ours.grad, theirs.grad)


# --- bad input --------------------------------------------------------------------------------

def bad(shape_x, shape_w):
    return leaf(shape_x, requires_grad=False), leaf(shape_w, requires_grad=False)


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(*bad((8, 3, 32, 32), (6, 1, 5, 5))),
     r"conv2d: input has 3 channels but weight expects 1 \(input \(8, 3, 32, 32\), weight \(6, 1, 5, 5\)\)"),
    (lambda: F.conv2d(*bad((3, 32, 32), (6, 3, 5, 5))),
     r"conv2d: expected a 4-d input \(batch, channels, height, width\), got shape \(3, 32, 32\)"),
    (lambda: F.conv1d(*bad((2, 3, 8, 8), (6, 3, 5))), r"conv1d: expected a 3-d input"),
    (lambda: F.conv2d(*bad((1, 4, 8, 8), (6, 2, 3, 3)), groups=3),
     r"conv2d: groups=3 must divide both the input channels and the weight's first dimension"),
    (lambda: F.conv2d(*bad((1, 1, 4, 4), (1, 1, 5, 5)), padding=0),
     r"conv2d: kernel size \(5, 5\) \(after dilation\) is larger than the padded input \(4, 4\)"),
    (lambda: F.conv2d(*bad((1, 1, 4, 4), (1, 1, 3, 3)), dilation=3),
     r"conv2d: kernel size \(7, 7\) \(after dilation\) is larger than the padded input \(4, 4\)"),
    (lambda: F.conv2d(*bad((1, 1, 8, 8), (1, 1, 3, 3)), stride=(1, 0)),
     r"conv2d: stride must be positive, got \(1, 0\)"),
    (lambda: F.conv2d(*bad((1, 1, 8, 8), (1, 1, 3, 3)), stride=1.5),
     r"conv2d: stride must be an int or a tuple of 2 ints, got 1.5"),
    (lambda: F.conv1d(*bad((1, 1, 8), (1, 1, 3)), padding=(1, 1)),
     r"conv1d: padding must be an int or a tuple of 1 int, got \(1, 1\)"),
    (lambda: F.conv2d(*bad((1, 1, 8, 8), (1, 1, 3, 3)), dilation=0),
     r"conv2d: dilation must be positive, got 0"),
    (lambda: F.conv2d(*bad((1, 1, 8, 8), (1, 1, 3, 3)), padding=-1),
     r"conv2d: padding must be non-negative, got -1"),
    (lambda: F.conv2d(*bad((1, 1, 8, 8), (1, 1, 3, 3)), stride=2, padding="same"),
     r"conv2d: padding='same' needs stride 1, got stride \(2, 2\)"),
    (lambda: F.conv2d(*bad((1, 1, 8, 8), (1, 1, 3, 3)), padding="full"),
     r"conv2d: padding must be an int, a tuple, 'same' or 'valid', got 'full'"),
    (lambda: F.conv2d(*bad((1, 2, 8, 8), (3, 2, 3, 3)), bias=leaf((2,))),
     r"conv2d: expected bias of shape \(3,\), got \(2,\)"),
    (lambda: F.conv_transpose2d(*bad((1, 2, 4, 4), (3, 2, 3, 3))),
     r"conv_transpose2d: input has 2 channels but weight expects 3 "
     r"\(input \(1, 2, 4, 4\), weight \(3, 2, 3, 3\)\)"),
    (lambda: F.conv_transpose2d(*bad((1, 2, 4, 4), (2, 2, 3, 3)), stride=2, output_padding=2),
     r"conv_transpose2d: output_padding \(2, 2\) must be smaller than either stride \(2, 2\) "
     r"or dilation \(1, 1\)"),
    (lambda: F.set_conv_algorithm("fft"),
     r"set_conv_algorithm: expected 'default', 'reference', 'im2col', 'numba', 'winograd' or "
     r"'auto', got 'fft'"),
])
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_numpy_integers_are_accepted_as_arguments():
    x, w = bad((1, 2, 6, 6), (2, 1, 3, 3))
    y = F.conv2d(x, w, stride=numpy.int64(2), padding=(numpy.int32(1), 1), groups=numpy.int64(2))
    assert y.shape == (1, 2, 3, 3)


def test_mixed_dtypes_are_explained():
    x = leaf((1, 1, 4, 4), requires_grad=False, dtype=numpy.float32)
    w = leaf((1, 1, 3, 3), requires_grad=False)
    with pytest.raises(TypeError, match="conv2d: input dtype float32 and weight dtype float64 differ"):
        F.conv2d(x, w)
