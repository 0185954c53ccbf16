"""The emulator catches the bugs that would only show on a GPU: each test compiles a copy of
a kernel file with one bug planted (the `mutated_kernels` fixture) and runs it through its
wrapper in gpu_kernels/, as the GPU backend would."""
import numpy
import pytest

from minicnn.backend import cuda_kernels
from minicnn.backend.cuda_emulator import KernelError
from minicnn.cpu_kernels.conv_geometry import ConvGeometry
from minicnn.gpu_kernels import batch_norm, conv

from . import cpu_reference as reference
from .conftest import requires_compiler

pytestmark = requires_compiler

# 3x3 windows, padding 1: the last window row reads input row `height`, which is padding.
GEOMETRY = ConvGeometry(in_size=(5, 4), out_size=(5, 4), kernel=(3, 3), stride=(1, 1),
                        padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)


def _image(dtype=numpy.float64):
    return numpy.random.default_rng(0).standard_normal((2, 3, 5, 4)).astype(dtype)


def test_the_unmutated_kernels_pass_the_same_checks(mutated_kernels):
    mutated_kernels("im2col", "", "")
    x = _image()
    with cuda_kernels.emulated():
        numpy.testing.assert_allclose(conv.im2col(x, GEOMETRY), reference.im2col(x, GEOMETRY))


def test_an_off_by_one_read_in_im2col_poisons_the_result(mutated_kernels):
    # `iy <= height` lets the bottom padding row read the next row of memory: the next plane's
    # first row inside x, and the guard band's NaN after the last plane.
    mutated_kernels("im2col", "iy >= 0 && iy < height", "iy >= 0 && iy <= height")
    x = _image()
    with cuda_kernels.emulated():
        col = conv.im2col(x, GEOMETRY)
    expected = reference.im2col(x, GEOMETRY)
    assert numpy.isnan(col).any(), "the read past the end of x should have returned NaN"
    assert not numpy.allclose(col[:-1], expected[:-1]), "the read across planes should differ"


def test_an_off_by_one_write_in_im2col_raises(mutated_kernels):
    # `index <= total`: one thread writes col[total], one element past the end.
    mutated_kernels("im2col", "index < total;", "index <= total;")
    with cuda_kernels.emulated(), pytest.raises(KernelError, match=r"im2col<double>.*wrote out of "
                                                r"bounds of argument 1 \(double\*, 1080 elements\): "
                                                r"element 1080 after the array"):
        conv.im2col(_image(), GEOMETRY)


@pytest.mark.parametrize("thread_order", ["forward", "shuffle"])
def test_a_removed_syncthreads_changes_batch_norm_statistics(mutated_kernels, thread_order):
    # Without the barrier after `shared[threadIdx.x] = value`, the tree sum reads slots that
    # other threads have not written yet: NaN, since shared memory starts poisoned. Running
    # the threads last-first hides this one (each reads only slots written before it), which
    # is why the order can be chosen.
    mutated_kernels("batch_norm", "shared[threadIdx.x] = value;\n    __syncthreads();",
                    "shared[threadIdx.x] = value;")
    x = numpy.random.default_rng(1).standard_normal((4, 3, 6))
    with cuda_kernels.emulated(thread_order=thread_order):
        mean, var = batch_norm.batch_norm_stats(x)
    assert not numpy.allclose(mean, x.mean(axis=(0, 2)), equal_nan=False)


def test_an_int_parameter_widened_to_long_long_is_refused(mutated_kernels):
    # The wrapper passes numpy.int32 for `batch`; a kernel that takes long long would read
    # 8 bytes on a GPU (the next argument's among them).
    mutated_kernels("im2col", "T* __restrict__ col,\n                       int batch,",
                    "T* __restrict__ col,\n                       long long batch,")
    with cuda_kernels.emulated(), pytest.raises(TypeError, match=r"im2col<double>: argument 2 is "
                                                r"long long \(8 bytes\) but got numpy.int32"):
        conv.im2col(_image(), GEOMETRY)


def test_batch_norm_takes_its_block_from_the_kernels_shared_array(mutated_kernels):
    # A smaller BLOCK in the kernel file: the launcher follows it (kernel.shared_size_bytes),
    # where a fixed 256-thread block would write past the 128-value array.
    mutated_kernels("batch_norm", "#define BLOCK 256", "#define BLOCK 128")
    x = numpy.random.default_rng(2).standard_normal((30, 2, 9))
    with cuda_kernels.emulated():
        kernel = cuda_kernels.get_kernel("batch_norm", "batch_norm_stats", x.dtype)
        assert kernel.shared_size_bytes == 128 * 8
        mean, var = batch_norm.batch_norm_stats(x)
    numpy.testing.assert_allclose(mean, x.mean(axis=(0, 2)), rtol=1e-12)
    numpy.testing.assert_allclose(var, x.var(axis=(0, 2)), rtol=1e-12)


def test_batch_norm_refuses_a_shared_array_that_is_not_a_power_of_two(mutated_kernels):
    # The tree sum halves the block: with 96 threads it would drop values.
    mutated_kernels("batch_norm", "#define BLOCK 256", "#define BLOCK 96")
    with cuda_kernels.emulated(), pytest.raises(RuntimeError, match=r"batch_norm: the reduction "
                                                r"kernel's __shared__ array holds 96 values; the "
                                                r"tree sum needs a power of two"):
        batch_norm.batch_norm_stats(numpy.ones((2, 3, 4)))
