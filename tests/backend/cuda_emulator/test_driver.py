"""The CUDA emulator's guarantees, each shown on a small kernel: CUDA's indices and limits,
the argument checks, guard bands, barriers, shared memory, atomics, __dp4a, device printf
and assert, thread orders, and the OS-thread build. All kernels live in one source, so each
build compiles once (and is cached)."""
import os
import shutil
import subprocess
import sys
import textwrap

import numpy
import pytest

from minicnn.backend.cuda_emulator import CompileError, KernelError, RawModule

pytestmark = pytest.mark.skipif(shutil.which(os.environ.get("CXX", "g++")) is None,
                                reason="the CUDA emulator needs a C++20 compiler (g++ or $CXX)")

SOURCE = r"""
__global__ void where_am_i(int* out) {
    // Linear thread id, x fastest, as CUDA numbers them.
    const int block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    const int thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    const int per_block = blockDim.x * blockDim.y * blockDim.z;
    out[block * per_block + thread] = 1000000 * threadIdx.z + 10000 * threadIdx.y + 100 * threadIdx.x
                                      + blockIdx.x + 10 * blockIdx.y + 50 * blockIdx.z;
}

__global__ void scale(const float* x, float* y, int n, float factor) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i] * factor;
}

__global__ void write_at(double* out, long long index) { out[index] = 7.0; }

__global__ void read_at(const double* in, double* out, long long index) { out[0] = in[index]; }

__global__ void copy_at(const float* in, float* out, long long from, long long to) { out[to] = in[from]; }

__global__ void bump_at(float* x, long long index) { x[index] -= 0.5f * x[index]; }

__global__ void wild_write(double* out) { out[threadIdx.x * 100000000000LL] = 1.0; }

__global__ void half_barrier(int* out) {
    if (threadIdx.x < 3) __syncthreads();
    out[threadIdx.x] = 1;
}

__global__ void two_barriers(int* out) {
    if (threadIdx.x % 2) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    out[threadIdx.x] = 1;
}

__global__ void reverse_in_shared(const float* in, float* out) {
    // One copy per block; poisoned before each block, so a read of a slot no thread of this
    // block wrote (when `skip` threads skip their write) gives NaN.
    __shared__ float slots[64];
    const int t = threadIdx.x, n = blockDim.x;
    if (in[blockIdx.x * n + t] >= 0) slots[t] = in[blockIdx.x * n + t];
    __syncthreads();
    out[blockIdx.x * n + t] = slots[n - 1 - t];
}

__global__ void reverse_in_dynamic_shared(const float* in, float* out, int overrun) {
    extern __shared__ __align__(16) unsigned char raw[];
    float* slots = reinterpret_cast<float*>(raw);
    const int t = threadIdx.x, n = blockDim.x;
    slots[t + overrun] = in[blockIdx.x * n + t];
    __syncthreads();
    out[blockIdx.x * n + t] = slots[n - 1 - t];
}

__global__ void ticket(int* counter, int* out) {
    // The order in which the threads of the block ran: each takes the next ticket.
    out[threadIdx.x] = atomicAdd(counter, 1);
}

template <typename T>
__global__ void histogram(const int* bins, T* counts, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        atomicAdd(&counts[bins[i]], T(1));
}

__global__ void dot_int8(const int* a, const int* b, const int* c, int* out,
                         const unsigned int* ua, const unsigned int* ub, unsigned int* uout) {
    const int i = threadIdx.x;
    out[i] = __dp4a(a[i], b[i], c[i]);
    uout[i] = __dp4a(ua[i], ub[i], 5u);
}

__global__ void mixed_math(const long long* big, const float* x, double* out) {
    out[0] = (double)min(big[0], 3);              // long long and int
    out[1] = max(x[0], x[1]);                     // a NaN loses to a number, as fmaxf
    out[2] = rsqrt(4.0) + exp(0.0) + log(1.0f);
}

__global__ void talk(int* out) {
    printf("block %d thread %d\n", blockIdx.x, threadIdx.x);
    assert(threadIdx.x < 2);
    out[threadIdx.x] = 1;
}
"""

NAMES = ["where_am_i", "scale", "write_at", "read_at", "copy_at", "bump_at", "wild_write", "half_barrier",
         "two_barriers", "reverse_in_shared", "reverse_in_dynamic_shared", "ticket",
         "histogram<float>", "histogram<double>", "histogram<int>", "dot_int8", "mixed_math",
         "talk"]


def _line_of(text):
    """The line of SOURCE (as the compiler numbers test.cu) on which `text` starts."""
    return SOURCE[:SOURCE.index(text)].count("\n") + 1


@pytest.fixture(scope="module")
def module():
    return RawModule(code=SOURCE, name_expressions=NAMES, source_name="test.cu")


@pytest.fixture(scope="module")
def os_thread_module():
    return RawModule(code=SOURCE, name_expressions=NAMES, source_name="test.cu", os_threads=True)


def test_parameters_come_from_the_compiler(module):
    assert [str(p) for p in module.get_function("scale").parameters] == \
        ["const float*", "float*", "int", "float"]
    assert [str(p) for p in module.get_function("write_at").parameters] == ["double*", "long long"]


@pytest.mark.parametrize("grid, block", [((2,), (3,)), ((2, 3), (4, 2)), ((2, 1, 2), (2, 2, 3))])
def test_indices_and_dimensions_are_cudas(module, grid, block):
    grid3, block3 = grid + (1,) * (3 - len(grid)), block + (1,) * (3 - len(block))
    out = numpy.full(numpy.prod(grid3) * numpy.prod(block3), -1, dtype=numpy.int32)
    module.get_function("where_am_i")(grid, block, (out,))
    expected = [1000000 * tz + 10000 * ty + 100 * tx + bx + 10 * by + 50 * bz
                for bz in range(grid3[2]) for by in range(grid3[1]) for bx in range(grid3[0])
                for tz in range(block3[2]) for ty in range(block3[1]) for tx in range(block3[0])]
    numpy.testing.assert_array_equal(out, expected)


def test_a_launch_computes_into_the_numpy_arrays(module):
    x = numpy.arange(10, dtype=numpy.float32)
    y = numpy.full(10, numpy.nan, dtype=numpy.float32)
    module.get_function("scale")((3,), (4,), (x, y, numpy.int32(10), numpy.float32(2.5)))
    numpy.testing.assert_array_equal(y, 2.5 * x)


@pytest.mark.parametrize("argument, message", [
    (3, r"argument 2 is int \(4 bytes\) but got a Python int; pass numpy.int32\(value\)"),
    (numpy.int64(3), r"argument 2 is int \(4 bytes\) but got numpy.int64"),
    (numpy.float32(3), r"argument 2 is int \(4 bytes\) but got numpy.float32"),
])
def test_a_scalar_of_the_wrong_type_or_width_raises(module, argument, message):
    x = numpy.zeros(4, dtype=numpy.float32)
    with pytest.raises(TypeError, match=r"scale: " + message):
        module.get_function("scale")((1,), (4,), (x, x.copy(), argument, numpy.float32(1)))


def test_an_array_of_the_wrong_dtype_raises(module):
    x = numpy.zeros(4)
    with pytest.raises(TypeError, match=r"scale: argument 0 is const float\* but got an array of float64"):
        module.get_function("scale")((1,), (4,), (x, x.astype(numpy.float32), numpy.int32(4), numpy.float32(1)))


def test_an_array_in_the_other_byte_order_raises(module):
    x = numpy.zeros(4, dtype=">f4")
    with pytest.raises(TypeError, match=r"scale: argument 0 is const float\* but got an array of "
                                        r">f4 \(not in native byte order\)"):
        module.get_function("scale")((1,), (4,), (x, numpy.zeros(4, numpy.float32), numpy.int32(4), numpy.float32(1)))


def test_arrays_must_be_contiguous_writable_numpy_arrays(module):
    f = module.get_function("scale")
    x = numpy.zeros(8, dtype=numpy.float32)
    n, one = numpy.int32(4), numpy.float32(1)
    with pytest.raises(ValueError, match=r"argument 1 \(float\*\) must be C-contiguous"):
        f((1,), (4,), (x, x.copy()[::2], n, one))
    read_only = x.copy()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=r"argument 1 \(float\*\) may be written by the kernel but the array is read-only"):
        f((1,), (4,), (x, read_only, n, one))
    f((1,), (4,), (read_only, x, n, one))      # const float*: read-only is fine
    with pytest.raises(TypeError, match=r"argument 0 \(const float\*\) must be a NumPy array, got builtins.list"):
        f((1,), (4,), ([0.0] * 4, x, n, one))
    with pytest.raises(TypeError, match=r"scale: takes 4 arguments \(const float\*, float\*, int, float\), got 3"):
        f((1,), (4,), (x, x.copy(), n))


@pytest.mark.parametrize("grid, block, shared_mem, message", [
    ((1,), (1025,), 0, r"block \(1025, 1, 1\) out of CUDA's range"),
    ((1,), (32, 32, 2), 0, r"a block of 2048 threads"),
    ((0,), (1,), 0, r"grid \(0, 1, 1\) out of CUDA's range"),
    ((1,), (1, 1, 65), 0, r"block \(1, 1, 65\) out of CUDA's range"),
    ((1,), (1,), 48 * 1024 + 1, r"shared_mem must be in \[0, 49152\]"),
])
def test_launches_outside_cudas_limits_raise(module, grid, block, shared_mem, message):
    out = numpy.zeros(1, dtype=numpy.int32)
    with pytest.raises(ValueError, match=message):
        module.get_function("where_am_i")(grid, block, (out,), shared_mem=shared_mem)


@pytest.mark.parametrize("index, side", [(5, "5 after"), (-1, "-1 before"), (-300, "-300 before")])
def test_a_write_out_of_bounds_raises_and_leaves_the_array_as_it_was(module, index, side):
    out = numpy.arange(5, dtype=numpy.float64)
    with pytest.raises(KernelError, match=rf"write_at: wrote out of bounds of argument 0 "
                                          rf"\(double\*, 5 elements\): element {side} the array"):
        module.get_function("write_at")((1,), (1,), (out, numpy.int64(index)))
    numpy.testing.assert_array_equal(out, numpy.arange(5))


def test_a_write_of_a_value_read_out_of_bounds_is_seen_too(module):
    # A NaN computed from the guard (in place, one past the end) or copied from another
    # array's guard is not the guard's own bits.
    x, out = numpy.zeros(3, dtype=numpy.float32), numpy.zeros(3, dtype=numpy.float32)
    with pytest.raises(KernelError, match=r"bump_at: wrote out of bounds of argument 0 .*element 3 after"):
        module.get_function("bump_at")((1,), (1,), (x, numpy.int64(3)))
    with pytest.raises(KernelError, match=r"copy_at: wrote out of bounds of argument 1 .*element 3 after"):
        module.get_function("copy_at")((1,), (1,), (x, out, numpy.int64(3), numpy.int64(3)))


def test_a_read_out_of_bounds_gets_nan(module):
    values, out = numpy.arange(5, dtype=numpy.float64), numpy.zeros(1)
    module.get_function("read_at")((1,), (1,), (values, out, numpy.int64(4)))
    assert out[0] == 4
    module.get_function("read_at")((1,), (1,), (values, out, numpy.int64(5)))
    assert numpy.isnan(out[0])


def test_the_same_array_twice_shares_one_guarded_copy(module):
    x = numpy.arange(4, dtype=numpy.float32)
    module.get_function("scale")((1,), (4,), (x, x, numpy.int32(4), numpy.float32(3)))
    numpy.testing.assert_array_equal(x, [0, 3, 6, 9])
    with pytest.raises(ValueError, match=r"argument 1 overlaps argument 0"):
        module.get_function("scale")((1,), (4,), (x, x[1:], numpy.int32(3), numpy.float32(3)))


def test_an_access_far_outside_every_array_is_an_illegal_memory_access(module):
    with pytest.raises(KernelError, match=r"wild_write<<<\(1, 1, 1\), \(2, 1, 1\)>>>: illegal "
                                          r"memory access at address 0x[0-9a-f]+ \(.*\) in thread "
                                          r"\(1, 0, 0\) of block \(0, 0, 0\)"):
        module.get_function("wild_write")((1,), (2,), (numpy.zeros(2),))


@pytest.mark.parametrize("build", ["fibers", "os threads"])
def test_a_barrier_that_not_every_thread_reaches_is_an_error(request, build):
    module = request.getfixturevalue("module" if build == "fibers" else "os_thread_module")
    out = numpy.zeros(8, dtype=numpy.int32)
    half, odd, even = (_line_of(text) for text in ("if (threadIdx.x < 3) __syncthreads();",
                                                    "{\n        __syncthreads();", "} else {\n        __syncthreads();"))
    with pytest.raises(KernelError, match=rf"__syncthreads\(\) at line {half} was reached by 3 of "
                                          rf"the 8 threads of block \(0, 0, 0\)"):
        module.get_function("half_barrier")((2,), (8,), (out,))
    with pytest.raises(KernelError, match=rf"threads wait at different __syncthreads\(\) \(lines "
                                          rf"({odd + 1} and {even + 1}|{even + 1} and {odd + 1})\)"):
        module.get_function("two_barriers")((1,), (8,), (out,))
    numpy.testing.assert_array_equal(out, 0)


@pytest.mark.parametrize("build", ["fibers", "os threads"])
def test_shared_memory_is_one_copy_per_block_and_starts_poisoned(request, build):
    module = request.getfixturevalue("module" if build == "fibers" else "os_thread_module")
    data = numpy.arange(1, 65, dtype=numpy.float32).reshape(2, 32)
    out = numpy.zeros_like(data)
    module.get_function("reverse_in_shared")((2,), (32,), (data, out))
    numpy.testing.assert_array_equal(out, data[:, ::-1])
    data[1, 3] = -1          # block 1's thread 3 writes nothing: its slot holds the poison
    module.get_function("reverse_in_shared")((2,), (32,), (data, out))
    assert numpy.isnan(out[1, 28]) and not numpy.isnan(numpy.delete(out.ravel(), 32 + 28)).any()


def test_dynamic_shared_memory_is_per_launch_and_guarded(module):
    kernel = module.get_function("reverse_in_dynamic_shared")
    data = numpy.arange(64, dtype=numpy.float32).reshape(2, 32)
    out = numpy.zeros_like(data)
    kernel((2,), (32,), (data, out, numpy.int32(0)), shared_mem=32 * 4)
    numpy.testing.assert_array_equal(out, data[:, ::-1])
    with pytest.raises(KernelError, match=r"wrote outside its dynamic shared memory \(extern "
                                          r"__shared__, 128 bytes\) in block \(0, 0, 0\)"):
        kernel((2,), (32,), (data, out, numpy.int32(1)), shared_mem=32 * 4)


def test_the_kernels_static_shared_size_is_reported_as_cupy_does(module):
    assert module.get_function("reverse_in_shared").shared_size_bytes == 64 * 4
    assert module.get_function("scale").shared_size_bytes == 0


@pytest.mark.parametrize("order", ["forward", "reverse", "shuffle"])
def test_the_thread_order_of_a_phase_can_be_chosen(order):
    module = RawModule(code=SOURCE, name_expressions=NAMES, source_name="test.cu", thread_order=order)
    counter, tickets = numpy.zeros(1, dtype=numpy.int32), numpy.zeros(40, dtype=numpy.int32)
    module.get_function("ticket")((1,), (40,), (counter, tickets))
    assert sorted(tickets) == list(range(40))
    if order == "forward":
        numpy.testing.assert_array_equal(tickets, numpy.arange(40))
    elif order == "reverse":
        numpy.testing.assert_array_equal(tickets, numpy.arange(40)[::-1])
    else:
        assert list(tickets) not in (list(range(40)), list(range(40))[::-1])


@pytest.mark.parametrize("build", ["fibers", "os threads"])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int32])
def test_atomic_add_sums_every_contribution(request, build, dtype):
    module = request.getfixturevalue("module" if build == "fibers" else "os_thread_module")
    bins = numpy.random.default_rng(0).integers(0, 5, 300).astype(numpy.int32)
    counts = numpy.zeros(5, dtype=dtype)
    name = {numpy.float32: "float", numpy.float64: "double", numpy.int32: "int"}[dtype]
    module.get_function(f"histogram<{name}>")((2,), (64,), (bins, counts, numpy.int32(300)))
    numpy.testing.assert_array_equal(counts, numpy.bincount(bins, minlength=5))


def test_dp4a_is_the_int8_dot_product_plus_c(module):
    rng = numpy.random.default_rng(0)
    a8, b8 = rng.integers(-128, 128, (2, 16, 4)).astype(numpy.int8)
    c = rng.integers(-1000, 1000, 16).astype(numpy.int32)
    u8, v8 = rng.integers(0, 256, (2, 16, 4)).astype(numpy.uint8)
    out, uout = numpy.zeros(16, dtype=numpy.int32), numpy.zeros(16, dtype=numpy.uint32)
    module.get_function("dot_int8")((1,), (16,), (a8.view(numpy.int32).ravel(), b8.view(numpy.int32).ravel(),
                                                  c, out, u8.view(numpy.uint32).ravel(),
                                                  v8.view(numpy.uint32).ravel(), uout))
    numpy.testing.assert_array_equal(out, (a8.astype(numpy.int32) * b8).sum(axis=1) + c)
    numpy.testing.assert_array_equal(uout, (u8.astype(numpy.uint32) * v8).sum(axis=1) + 5)


def test_cuda_math_on_mixed_types(module):
    out = numpy.zeros(3)
    module.get_function("mixed_math")((1,), (1,), (numpy.array([10], dtype=numpy.int64),
                                                   numpy.array([numpy.nan, 2], dtype=numpy.float32), out))
    numpy.testing.assert_array_equal(out, [3, 2, 1.5])


def test_device_printf_is_shown_after_the_launch_and_assert_fails_the_launch(module, capsys):
    out = numpy.zeros(4, dtype=numpy.int32)
    with pytest.raises(KernelError, match=r"talk<<<.*>>>: assertion failed: threadIdx.x < 2 "
                                          r"\(test.cu:\d+\) in thread \(2, 0, 0\) of block \(0, 0, 0\)"):
        module.get_function("talk")((1,), (4,), (out,))
    assert capsys.readouterr().out == "block 0 thread 0\nblock 0 thread 1\nblock 0 thread 2\n"


def test_warp_intrinsics_do_not_compile():
    source = "__global__ void k(float* x) { x[0] = __shfl_down_sync(0xffffffffu, x[0], 1); }"
    with pytest.raises(CompileError, match=r"warp.cu:1:.*deleted function"):
        RawModule(code=source, name_expressions=["k"], source_name="warp.cu")


def test_a_compile_error_names_the_source_and_line():
    with pytest.raises(CompileError, match=r"broken.cu:2:"):
        RawModule(code="__global__ void k(float* x) {\n  x[0] = undefined_name;\n}",
                  name_expressions=["k"], source_name="broken.cu")


def test_get_function_knows_only_the_name_expressions(module):
    with pytest.raises(KeyError, match=r"'histogram<long>' is not among the name expressions"):
        module.get_function("histogram<long>")


@pytest.mark.slow
def test_thread_sanitizer_sees_the_race_of_a_missing_barrier(tmp_path):
    # The race of reverse_in_shared without its barrier: thread t reads slot n - 1 - t, which
    # another thread writes. ThreadSanitizer needs its runtime loaded at start-up.
    runtime = subprocess.run(["g++", "-print-file-name=libtsan.so"], capture_output=True, text=True).stdout.strip()
    if not os.path.isabs(runtime):
        pytest.skip("g++ has no ThreadSanitizer runtime")
    script = tmp_path / "race.py"
    script.write_text(textwrap.dedent(f"""
        import numpy
        from minicnn.backend.cuda_emulator import RawModule
        source = {SOURCE!r}.replace("__syncthreads();\\n    out[blockIdx.x * n + t] = slots", "out[blockIdx.x * n + t] = slots", 1)
        module = RawModule(code=source, name_expressions=["reverse_in_shared"], sanitize_threads=True)
        data = numpy.arange(1, 9, dtype=numpy.float32)
        module.get_function("reverse_in_shared")((1,), (8,), (data, numpy.zeros_like(data)))
    """))
    environment = dict(os.environ, LD_PRELOAD=runtime, TSAN_OPTIONS="exitcode=66")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=environment)
    assert "WARNING: ThreadSanitizer: data race" in result.stderr
    assert "reverse_in_shared" in result.stderr
