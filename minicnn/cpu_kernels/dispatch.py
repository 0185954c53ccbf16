"""Which kernel computes each convolution and pooling product: where the fast paths branch off.

functional/conv.py, functional/pool.py and functional/roi.py state the math and call the
functions here, which pick the kernel that computes it:

    an empty batch     reference/ (its loops run over the window, not the batch, so they
                       need no special case; the fast kernels split the batch into blocks)
    CuPy arrays        gpu_kernels/conv.py, gpu_kernels/pool.py (CUDA)
    NumPy, pooling     pool_numba.py
    NumPy, RoIs        roi_align_numba.py (RoIAlign and RoIPool; CuPy: gpu_kernels/roi_align.py)
    NumPy, conv        the algorithm that set_conv_algorithm chose:
        'default'      a fixed rule from the layer's shape: winograd.py for 3x3 stride-1 layers
                       (no dilation, one group) with at least 16 input channels, conv_numba.py
                       for every other (benchmarks/README.md has the measurements behind it)
        'reference'    reference/conv.py, the definition
        'im2col'       im2col.py
        'numba'        conv_numba.py
        'winograd'     winograd.py where it applies, else conv_numba.py
        'auto'         every kernel that applies, timed on the first call of each product
                       and shape, and the fastest kept (conv_algorithm_choices lists them)

The kernels round differently, so which one runs decides the last bits of every result.
'default' decides from shapes alone: the same seed, data and machine give the same bits
however busy the machine is, as PyTorch does with cudnn.benchmark = False. 'auto' decides
by timing, which a busy machine can change: set_conv_algorithm_choices replays a choice.

A 1-d signal (N, C, L) is computed as an image of height 1, (N, C, 1, L).
"""
import dataclasses
import time

from ..backend import is_cupy_array
from ..gpu_kernels import conv as gpu_conv, pool as gpu_pool, roi_align as gpu_roi_align
from . import conv_numba, im2col, pool_numba, roi_align_numba, winograd
from .conv_geometry import ConvGeometry
from .reference import conv as reference_conv, pool as reference_pool
from .threads import num_threads

_KERNELS = {"reference": reference_conv, "im2col": im2col, "numba": conv_numba, "winograd": winograd}
ALGORITHMS = ("default",) + tuple(_KERNELS) + ("auto",)
_TIMED = ("im2col", "numba", "winograd")
# Below 16 input channels Winograd's transforms, which cost the same per channel as its
# products, outweigh the products it saves.
_WINOGRAD_MIN_CHANNELS = 16
_algorithm = "default"
_fastest = {}   # (product, geometry, shapes, dtype, threads) -> the name of the fastest kernel


def set_conv_algorithm(name):
    """Choose the CPU convolution kernels: 'default', 'reference', 'im2col', 'numba', 'winograd'
    or 'auto' (this module's docstring says what each does)."""
    global _algorithm
    if name not in ALGORITHMS:
        expected = ", ".join(repr(choice) for choice in ALGORITHMS[:-1])
        raise ValueError(f"set_conv_algorithm: expected {expected} or {ALGORITHMS[-1]!r}, got {name!r}")
    _algorithm = name


def get_conv_algorithm():
    """The name set by set_conv_algorithm ('default' until then)."""
    return _algorithm


def conv_algorithm_choices():
    """The kernels that 'auto' timed and chose in this process, one JSON-able record each:
    {"product", "geometry", "shapes", "dtype", "threads", "kernel"}."""
    return [{"product": product, "geometry": dataclasses.asdict(geometry),
             "shapes": [list(shape) for shape in shapes], "dtype": dtype, "threads": threads,
             "kernel": kernel}
            for (product, geometry, shapes, dtype, threads), kernel in _fastest.items()]


def set_conv_algorithm_choices(records):
    """Make 'auto' use these choices (records of conv_algorithm_choices, e.g. saved by an earlier
    run) instead of timing the kernels again; they replace the choices made so far."""
    choices = {}
    for number, record in enumerate(records):
        try:
            key = (record["product"], ConvGeometry(**_tuples(record["geometry"])),
                   _tuples(record["shapes"]), record["dtype"], record["threads"])
            kernel = record["kernel"]
        except (KeyError, TypeError) as error:
            raise ValueError(f"set_conv_algorithm_choices: record {number} is not a record of "
                             f"conv_algorithm_choices ({error!r}): {record!r}") from None
        if kernel not in _TIMED or key[0] not in ("forward", "input_grad", "weight_grad"):
            raise ValueError(f"set_conv_algorithm_choices: record {number} names product "
                             f"{key[0]!r} and kernel {kernel!r}; expected a product forward, "
                             f"input_grad or weight_grad and a kernel of {_TIMED}")
        choices[key] = kernel
    _fastest.clear()
    _fastest.update(choices)


# --- convolution ---------------------------------------------------------------------------

def conv_forward(x, weight, geometry, bias=None):
    """The correlation of x (N, C, H, W) with weight (O, C / G, kh, kw), plus bias[o]."""
    return _convolve("forward", geometry, x, weight, bias=bias)


def conv_input_grad(gy, weight, geometry, bias=None):
    """The adjoint of conv_forward applied to gy (N, O, out_h, out_w), plus bias[c]."""
    return _convolve("input_grad", geometry, gy, weight, bias=bias)


def conv_weight_grad(x, gy, geometry):
    """The correlation of x with gy: conv_forward's gradient with respect to the weight."""
    return _convolve("weight_grad", geometry, x, gy)


def _convolve(product, geometry, *arrays, **options):
    """options: the bias that forward and input_grad add to their output."""
    ndim = arrays[0].ndim
    arrays = [_planar(array) for array in arrays]
    kernel = _conv_kernel(product, geometry, arrays, options)
    return _like(getattr(kernel, product)(*arrays, geometry, **options), ndim)


def _conv_kernel(product, geometry, arrays, options):
    if arrays[0].shape[0] == 0:
        return reference_conv
    if is_cupy_array(arrays[0]):
        return gpu_conv
    if _algorithm == "default":
        return winograd if _winograd_by_default(product, geometry, arrays) else conv_numba
    if _algorithm == "auto":
        return _KERNELS[_fastest_of(product, geometry, arrays, options)]
    kernel = _KERNELS[_algorithm]
    return kernel if _applies(kernel, geometry) else conv_numba


def _winograd_by_default(product, geometry, arrays):
    """The 'default' rule. The correlation's input channels are those of x, or for the input
    gradient, whose arrays are (gy, weight), the weight's second axis times the groups."""
    channels = arrays[1].shape[1] * geometry.groups if product == "input_grad" else arrays[0].shape[1]
    return winograd.supports(geometry) and channels >= _WINOGRAD_MIN_CHANNELS


def _applies(kernel, geometry):
    """im2col, numba and the reference compute every geometry; winograd only some."""
    return not hasattr(kernel, "supports") or kernel.supports(geometry)


def _fastest_of(product, geometry, arrays, options):
    """The kernel fastest at `product` on these arrays' shapes, timed on the first call.

    The kernels round differently, so the chosen one then computes the result, even on the
    first call: every call for a shape gives the same bits (gradcheck relies on it).
    """
    key = (product, geometry, tuple(tuple(a.shape) for a in arrays), str(arrays[0].dtype), num_threads())
    if key not in _fastest:
        timings = {}
        for name in _TIMED:
            if not _applies(_KERNELS[name], geometry):
                continue
            function = getattr(_KERNELS[name], product)
            function(*arrays, geometry, **options)   # the first call may compile or warm caches
            # The best of two runs: on a shared machine one run can be slowed by other processes.
            timings[name] = min(_seconds(function, *arrays, geometry, **options) for _ in range(2))
        _fastest[key] = min(timings, key=timings.get)
    return _fastest[key]


def _seconds(function, *arguments, **options):
    start = time.perf_counter()
    function(*arguments, **options)
    return time.perf_counter() - start


def _planar(array):
    """A 1-d signal (N, C, L) as an image of height 1 (N, C, 1, L); images pass through."""
    return array if array.ndim == 4 else array.reshape(array.shape[:2] + (1,) + array.shape[2:])


def _like(array, ndim):
    """Undo _planar: drop the height-1 axis again when the op's arrays are 1-d signals."""
    return array if ndim == 4 else array.reshape(array.shape[:2] + array.shape[3:])


def _tuples(value):
    """JSON's lists back into the tuples of a geometry or a shape."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else (
        {k: _tuples(v) for k, v in value.items()} if isinstance(value, dict) else value)


# --- pooling: planes (P, H, W), windows (start, count, step) per axis (functional/pool.py) -----

def max_pool(planes, rows, cols):
    return _pool_kernels(planes).max_pool(planes, rows, cols)


def avg_pool(planes, rows, cols, divisor):
    return _pool_kernels(planes).avg_pool(planes, rows, cols, divisor)


def avg_pool_backward(planes, rows, cols, divisor, in_size):
    return _pool_kernels(planes).avg_pool_backward(planes, rows, cols, divisor, in_size)


def scatter_add(values, index, size):
    return _pool_kernels(values).scatter_add(values, index, size)


def _pool_kernels(array):
    if array.shape[0] == 0:
        return reference_pool
    return gpu_pool if is_cupy_array(array) else pool_numba


# --- RoIAlign and RoIPool (functional/roi.py) --------------------------------------------------

def roi_align_forward(x, rois, spatial_scale, output_size, sampling_ratio, aligned):
    return _roi_kernels(x).roi_align_forward(x, rois, spatial_scale, output_size, sampling_ratio,
                                             aligned)


def roi_align_backward(gy, rois, spatial_scale, sampling_ratio, aligned, input_shape):
    return _roi_kernels(gy).roi_align_backward(gy, rois, spatial_scale, sampling_ratio, aligned,
                                               input_shape)


def roi_pool_forward(x, rois, spatial_scale, output_size):
    return _roi_kernels(x).roi_pool_forward(x, rois, spatial_scale, output_size)


def _roi_kernels(array):
    return gpu_roi_align if is_cupy_array(array) else roi_align_numba
