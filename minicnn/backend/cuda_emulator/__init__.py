"""A CUDA emulator: the kernels of kernels/*.cu, compiled unchanged by g++, run on the CPU.

No machine that runs minicnn's tests has a GPU, yet a kernel with a wrong index, a missing
__syncthreads(), an argument of the wrong width or a write past the end of an array would
give garbage only on one. So every kernel also runs here, in every test run, against the
plain NumPy reference; learners without a GPU can run them too, and watch their threads.

    from minicnn.backend.cuda_emulator import RawModule
    module = RawModule(code=source, name_expressions=["im2col<float>"])   # as cupy.RawModule
    module.get_function("im2col<float>")((grid,), (block,), (x, col, numpy.int32(n), ...))

The arrays are NumPy arrays; the scalars NumPy scalars of exactly the kernel's parameter
types (numpy.int32 for int, numpy.int64 for long long). backend/cuda_kernels.py switches
the GPU wrappers of gpu_kernels/ over to the emulator (`with cuda_kernels.emulated():`, or
MINICNN_CUDA_EMULATOR=1 for a whole process).

How it works, one file each:
  cuda_emulator.h  CUDA's keywords, indices and device functions as C++, and the
                   scheduler: a block's threads are fibers switched at each __syncthreads()
  build.py         g++ into a shared library, cached by the SHA-256 of the source
  driver.py        RawModule / Function: one extern "C" entry point per kernel instance,
                   argument checks against the parameter types the compiler reports, guard
                   bands around every array

What a launch checks:
  * every argument against the kernel's parameter list (dtype, width, contiguity);
  * writes out of bounds of an argument array (guard bands, checked after the launch; a
    read out of bounds gets NaN, or a huge integer, and poisons the result);
  * an access far outside every array ("illegal memory access", as on a GPU);
  * a __syncthreads() that not every thread of the block reaches, or two different ones;
  * writes outside the dynamic shared memory (extern __shared__, shared_mem=...);
  * a failed assert() or __trap() in the kernel; and CUDA's limits on grid and block sizes.
  Shared memory (static and dynamic) is filled with NaN bytes before each block, so a read
  of a value no thread of this block wrote shows; and thread_order='reverse' or 'shuffle'
  reorders the threads of each phase, so a missing barrier shows in some order.

What it cannot do: warp intrinsics (__shfl_*_sync, __ballot_sync: a compile error),
timing, and the GPU's floating-point details (nvcc contracts a * b + c into an FMA and has
its own exp and log: compare with a tolerance). Static __shared__ arrays have no guard
bands (the compiler lays them out, back to back), so a launcher whose block must fit a
shared array takes the block from kernel.shared_size_bytes (gpu_kernels/batch_norm.py).
Races are run one thread at a time, so they show only as wrong results in some thread
order; RawModule(..., sanitize_threads=True) builds one OS thread per CUDA thread with
ThreadSanitizer instead (run Python with LD_PRELOAD=$(g++ -print-file-name=libtsan.so)).
Only Linux with GCC 10 or later (C++20, ucontext, ELF symbol tables) is supported.

Testing a new CUDA kernel (RoIAlign, an int8 product with __dp4a, ...) the same way:
  1. kernels/<family>.cu: `template <typename T> __global__ void name(...)`, documented with
     its thread and index mapping, looping with a grid stride over its work items.
  2. gpu_kernels/<family>.py: get_kernel("<family>", "name", dtype), then launch(kernel,
     work_items, *arrays, int32(...)) with every scalar as its NumPy type.
  3. The plain twin in minicnn/cpu_kernels/reference/<family>.py.
  4. tests/gpu/test_emulated_kernels.py: add the kernel's case (the registry test there
     fails for a kernel without one): call the wrapper inside `cuda_kernels.emulated()` on
     hypothesis-drawn small shapes, float32 and float64, and compare with the reference.
     The `small_launches` fixture shrinks blocks and grids so the grid-stride loop runs.
  5. .ci/compile_kernels.py compiles it with nvcc for sm_80 and sm_90.
  A kernel used only in a test can be compiled straight from a string, as
  tests/backend/cuda_emulator/test_driver.py does for __dp4a.
"""
from .build import CompileError
from .driver import Function, KernelError, RawModule

__all__ = ["CompileError", "Function", "KernelError", "RawModule"]
