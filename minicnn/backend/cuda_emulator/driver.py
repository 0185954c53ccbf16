"""CuPy's RawModule interface on the CPU: compile CUDA C++ with g++, launch on NumPy arrays.

    module = RawModule(code=source, name_expressions=["im2col<float>", "im2col<double>"])
    kernel = module.get_function("im2col<float>")
    kernel((grid,), (block,), (x, col, numpy.int32(batch), ...))     # x, col: NumPy arrays

For each name expression the translation unit gets two extern "C" functions: one that
launches that kernel instance, and one that returns its parameter list as the compiler sees
it (cuda_emulator.h, `parameters`). A call checks every argument against that list before
anything runs: an array of the wrong dtype, a non-contiguous array, a Python number, or a
NumPy scalar of the wrong width (int64 where the kernel takes int: on a GPU the kernel reads
the wrong bytes) raises TypeError.

Each array is copied into a buffer with guard bands of GUARD_BYTES on both sides, and the
kernel gets a pointer to the copy. After the launch, a guard that changed means the kernel
wrote out of bounds, and the call raises KernelError naming the argument and the elements;
a read out of bounds gets NaN (or a huge integer) and poisons the result. Only when all is
well are the copies written back, so a failed launch leaves the arrays as they were.
"""
import ctypes
import re
import subprocess
import sys
import threading

import numpy

from . import build

THREAD_ORDERS = {"forward": 0, "reverse": 1, "shuffle": 2}
GUARD_BYTES = 4096
# CUDA's limits (compute capability 7.0 and later) and its default dynamic shared memory.
MAX_THREADS_PER_BLOCK = 1024
MAX_BLOCK_DIMS = (1024, 1024, 64)
MAX_GRID_DIMS = (2 ** 31 - 1, 65535, 65535)
MAX_DYNAMIC_SHARED_BYTES = 48 * 1024
_MESSAGE_BYTES = 4096

# `extern __shared__ T name[];` cannot become plain C++ by a macro (cuda_emulator.h makes
# __shared__ `static`), so it is rewritten to a pointer at the launch's buffer.
_DYNAMIC_SHARED = re.compile(
    r"\bextern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?([^;\[]*?)\s*\b(\w+)\s*\[\s*\]\s*;")
_C_TYPES = {"f4": "float", "f8": "double", "i1": "signed char", "i2": "short", "i4": "int",
            "i8": "long long", "u1": "unsigned char", "u2": "unsigned short",
            "u4": "unsigned int", "u8": "unsigned long long", "b1": "bool"}


class KernelError(RuntimeError):
    """A launch went wrong: an unreached barrier, a failed assert, a write out of bounds..."""


class _LaunchConfig(ctypes.Structure):
    """emu::LaunchConfig of cuda_emulator.h, field for field."""
    _fields_ = [("grid", ctypes.c_uint * 3), ("block", ctypes.c_uint * 3),
                ("dynamic_shared_bytes", ctypes.c_ulonglong), ("thread_order", ctypes.c_int),
                ("seed", ctypes.c_uint), ("static_shared_count", ctypes.c_int),
                ("static_shared", ctypes.POINTER(ctypes.c_void_p)),
                ("static_shared_bytes", ctypes.POINTER(ctypes.c_ulonglong))]


class _Parameter(ctypes.Structure):
    """emu::Parameter of cuda_emulator.h."""
    _fields_ = [("pointer", ctypes.c_byte), ("kind", ctypes.c_char), ("is_const", ctypes.c_byte),
                ("size", ctypes.c_int)]

    @property
    def dtype_code(self):
        return f"{self.kind.decode()}{self.size}"

    def __str__(self):
        c_type = _C_TYPES.get(self.dtype_code, f"an unsupported type ({self.dtype_code})")
        return f"{'const ' if self.is_const else ''}{c_type}*" if self.pointer else c_type


class RawModule:
    """A module of kernels compiled for the emulator, created as cupy.RawModule is.

    code, options (only -D, -U and -I reach g++), name_expressions: as in CuPy.
    Emulator-only: source_name (what compiler errors and barrier lines refer to),
    thread_order ('forward', 'reverse' or 'shuffle': the order in which a phase runs the
    threads of a block; a missing __syncthreads shows up in one of them), seed (of the
    shuffles), os_threads (one OS thread per CUDA thread), sanitize_threads (os_threads built
    with ThreadSanitizer; load it with LD_PRELOAD=$(g++ -print-file-name=libtsan.so)).
    """

    def __init__(self, code, options=(), name_expressions=(), *, source_name="<RawModule code>",
                 thread_order="forward", seed=0, os_threads=False, sanitize_threads=False):
        if thread_order not in THREAD_ORDERS:
            raise ValueError(f"RawModule: thread_order must be one of {', '.join(THREAD_ORDERS)}, "
                             f"got {thread_order!r}")
        self.name_expressions = tuple(name_expressions)
        self.thread_order, self.seed = thread_order, seed
        defines = tuple(option for option in options if option[:2] in ("-D", "-U", "-I"))
        path = build.build(_translation_unit(code, self.name_expressions, source_name),
                           os_threads=os_threads, sanitize_threads=sanitize_threads,
                           defines=defines)
        self._library = ctypes.CDLL(str(path))
        self._library.minicnn_emu_config_bytes.restype = ctypes.c_size_t
        self._library.minicnn_emu_output_bytes.restype = ctypes.c_size_t
        if self._library.minicnn_emu_config_bytes() != ctypes.sizeof(_LaunchConfig):
            raise RuntimeError("CUDA emulator: driver.py's _LaunchConfig does not match "
                               "emu::LaunchConfig in cuda_emulator.h")
        self._static_shared = _static_shared_arrays(path, self._library, self.name_expressions)
        self._lock = threading.Lock()    # a module's launches share the library's globals
        self._functions = {}

    def get_function(self, name):
        if name not in self.name_expressions:
            raise KeyError(f"RawModule.get_function: {name!r} is not among the name expressions "
                           f"({', '.join(self.name_expressions)})")
        if name not in self._functions:
            self._functions[name] = Function(self, name, self.name_expressions.index(name))
        return self._functions[name]

    def _take_output(self):
        """What device printf wrote during the last launch."""
        size = self._library.minicnn_emu_output_bytes()
        buffer = ctypes.create_string_buffer(size)
        self._library.minicnn_emu_take_output(buffer)
        return buffer.raw[:size].decode(errors="replace")


class Function:
    """One kernel instance; call it as CuPy's: kernel(grid, block, args, shared_mem=0)."""

    def __init__(self, module, name, index):
        self.module, self.name = module, name
        self._launch = getattr(module._library, f"minicnn_emu_launch_{index}")
        self._launch.restype = ctypes.c_int
        self._launch.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(_LaunchConfig),
                                 ctypes.c_char_p, ctypes.c_size_t]
        describe = getattr(module._library, f"minicnn_emu_parameters_{index}")
        describe.restype = ctypes.POINTER(_Parameter)
        count = ctypes.c_int()
        table = describe(ctypes.byref(count))
        self.parameters = tuple(_Parameter.from_buffer_copy(table[k]) for k in range(count.value))
        self._shared_addresses, self._shared_bytes = module._static_shared[index]
        # CuPy's names for what the compiler reports about a kernel.
        self.shared_size_bytes = sum(self._shared_bytes)
        self.max_threads_per_block = MAX_THREADS_PER_BLOCK

    def __call__(self, grid, block, args, *, shared_mem=0):
        grid = _dimensions(self.name, "grid", grid, MAX_GRID_DIMS)
        block = _dimensions(self.name, "block", block, MAX_BLOCK_DIMS)
        threads = block[0] * block[1] * block[2]
        if threads > MAX_THREADS_PER_BLOCK:
            raise ValueError(f"{self.name}: a block of {threads} threads {block}; CUDA allows at "
                             f"most {MAX_THREADS_PER_BLOCK}")
        if not 0 <= shared_mem <= MAX_DYNAMIC_SHARED_BYTES:
            raise ValueError(f"{self.name}: shared_mem must be in [0, {MAX_DYNAMIC_SHARED_BYTES}] "
                             f"bytes (CUDA's default limit), got {shared_mem}")
        args = tuple(args)
        if len(args) != len(self.parameters):
            signature = ", ".join(str(p) for p in self.parameters)
            raise TypeError(f"{self.name}: takes {len(self.parameters)} arguments ({signature}), "
                            f"got {len(args)}")
        values, guarded = self._arguments(args)
        config = _LaunchConfig(
            (ctypes.c_uint * 3)(*grid), (ctypes.c_uint * 3)(*block), shared_mem,
            THREAD_ORDERS[self.module.thread_order], self.module.seed, len(self._shared_bytes),
            (ctypes.c_void_p * len(self._shared_addresses))(*self._shared_addresses),
            (ctypes.c_ulonglong * len(self._shared_bytes))(*self._shared_bytes))
        pointers = (ctypes.c_void_p * max(1, len(values)))(*(ctypes.addressof(v) for v in values))
        message = ctypes.create_string_buffer(_MESSAGE_BYTES)
        with self.module._lock:
            status = self._launch(pointers, ctypes.byref(config), message, _MESSAGE_BYTES)
            output = self.module._take_output()
        if output:
            sys.stdout.write(output)
        if status != 0:
            raise KernelError(f"{self.name}<<<{grid}, {block}>>>: {message.value.decode()}")
        for guard in guarded:
            guard.check(self.name)
        for guard in guarded:
            guard.write_back()

    def _arguments(self, args):
        """ctypes values to point the kernel at, and the guarded copies of the arrays."""
        values, guarded = [], {}
        for position, (parameter, value) in enumerate(zip(self.parameters, args)):
            if parameter.pointer:
                _check_array(self.name, position, parameter, value)
                key = (value.__array_interface__["data"][0], value.nbytes)
                if key not in guarded:
                    for other in guarded.values():
                        if numpy.may_share_memory(value, other.array):
                            raise ValueError(f"{self.name}: argument {position} overlaps argument "
                                             f"{other.position} without being the same array")
                    guarded[key] = _Guarded(value, position, parameter)
                guarded[key].written |= not parameter.is_const
                values.append(ctypes.c_void_p(guarded[key].pointer))
            else:
                _check_scalar(self.name, position, parameter, value)
                values.append(ctypes.create_string_buffer(value.tobytes(), parameter.size))
        return values, list(guarded.values())


def _check_array(name, position, parameter, value):
    if not isinstance(value, numpy.ndarray):
        raise TypeError(f"{name}: argument {position} ({parameter}) must be a NumPy array, "
                        f"got {type(value).__module__}.{type(value).__name__}")
    if value.dtype.str[1:] != parameter.dtype_code or not value.dtype.isnative:
        raise TypeError(f"{name}: argument {position} is {parameter} but got an array of "
                        f"{value.dtype}{'' if value.dtype.isnative else ' (not in native byte order)'}")
    if not value.flags.c_contiguous:
        raise ValueError(f"{name}: argument {position} ({parameter}) must be C-contiguous (a "
                         f"kernel sees only the data pointer), got strides {value.strides}")
    if not parameter.is_const and not value.flags.writeable:
        raise ValueError(f"{name}: argument {position} ({parameter}) may be written by the "
                         "kernel but the array is read-only")


def _check_scalar(name, position, parameter, value):
    if not isinstance(value, numpy.generic) or value.dtype.str[1:] != parameter.dtype_code:
        expected = numpy.dtype(parameter.dtype_code).name
        got = (f"numpy.{value.dtype}" if isinstance(value, numpy.generic)
               else f"a Python {type(value).__name__}")
        raise TypeError(f"{name}: argument {position} is {parameter} ({parameter.size} bytes) but "
                        f"got {got}; pass numpy.{expected}(value), since a GPU kernel reads "
                        "exactly the bytes of its parameter's type")


def _guard_bits(dtype, position):
    """The bits of argument `position`'s guard elements.

    For floating arrays a signalling NaN: a read poisons the result, and arithmetic on it gives
    an ordinary NaN, so no computed value (not even `p[n] -= ...` one past the end) can write
    these bits back. For integer arrays a huge value. Either way the low bits hold the
    argument's position, so a value copied from another argument's guard does not match.
    """
    if dtype.kind == "f":
        signalling_nan = {2: 0x7C00 | 0x100, 4: 0x7F800000 | 0x100000,
                          8: 0x7FF0000000000000 | 0xA5A00000000}[dtype.itemsize]
        return signalling_nan + position
    return int.from_bytes(b"\x7f" * dtype.itemsize, "little") & ~0xFF | 0x50 + position % 32


class _Guarded:
    """An array's copy between two guard bands, and the checks after a launch."""

    def __init__(self, array, position, parameter):
        self.array, self.position, self.parameter = array, position, parameter
        self.written = False      # passed to a parameter that is not const
        self.guard = max(1, GUARD_BYTES // array.itemsize)
        self.buffer = numpy.empty(array.size + 2 * self.guard, dtype=array.dtype)
        self._bits = numpy.dtype(f"u{array.itemsize}")
        self._sentinel = _guard_bits(array.dtype, position)
        self.buffer.view(self._bits)[:] = self._sentinel
        self.buffer[self.guard:self.guard + array.size] = array.ravel()
        self.pointer = self.buffer.ctypes.data + self.guard * array.itemsize

    def check(self, name):
        bands = {"before": self.buffer[:self.guard], "after": self.buffer[self.guard + self.array.size:]}
        for side, band in bands.items():
            changed = numpy.flatnonzero(band.view(self._bits) != self._sentinel)
            if changed.size:
                offsets = changed - self.guard if side == "before" else changed + self.array.size
                shown = ", ".join(str(int(k)) for k in offsets[:8])
                raise KernelError(
                    f"{name}: wrote out of bounds of argument {self.position} ({self.parameter}, "
                    f"{self.array.size} elements): element{'s' if changed.size > 1 else ''} "
                    f"{shown}{', ...' if changed.size > 8 else ''} {side} the array")

    def write_back(self):
        if self.written:
            self.array.reshape(-1)[:] = self.buffer[self.guard:self.guard + self.array.size]


def _dimensions(name, what, value, limits):
    dims = (value,) if isinstance(value, (int, numpy.integer)) else tuple(value)
    if not 1 <= len(dims) <= 3 or not all(isinstance(d, (int, numpy.integer)) for d in dims):
        raise TypeError(f"{name}: {what} must be an int or a tuple of 1 to 3 ints, got {value!r}")
    dims = tuple(int(d) for d in dims) + (1,) * (3 - len(dims))
    if not all(1 <= d <= limit for d, limit in zip(dims, limits)):
        raise ValueError(f"{name}: {what} {dims} out of CUDA's range (1 to {limits} per axis)")
    return dims


def _translation_unit(code, name_expressions, source_name):
    """The kernel source after cuda_emulator.h, and two entry points per name expression."""
    code = _DYNAMIC_SHARED.sub(r"\1* const \2 = reinterpret_cast<\1*>(emu::dynamic_shared_memory());",
                               code)
    entries = []
    for k, name in enumerate(name_expressions):
        entries.append(
            f'EMU_EXPORT int minicnn_emu_launch_{k}(void* const* args, const emu::LaunchConfig* config,\n'
            f'                                   char* message, std::size_t size) {{\n'
            f'    return emu::launch(&{name}, args, *config, message, size);\n}}\n'
            f'EMU_EXPORT const emu::Parameter* minicnn_emu_parameters_{k}(int* count) {{\n'
            f'    return emu::parameters(&{name}, count);\n}}\n')
    return (f'#include "cuda_emulator.h"\n#line 1 "{source_name}"\n{code}\n'
            f'#line 1 "<entry points>"\n' + "".join(entries))


def _static_shared_arrays(path, library, name_expressions):
    """For each kernel instance, the run-time addresses and sizes of its __shared__ arrays.

    They are the function's static local objects (__shared__ is `static` here, and CUDA
    allows no other static variables in a kernel), which the symbol table lists as
    `kernel<float>(float const*, ...)::shared` with their size. Arrays declared in a device
    function that the kernel calls belong to that function and are not counted.
    """
    listing = subprocess.run(["nm", "-C", "-S", "--defined-only", str(path)],
                             capture_output=True, text=True, check=True).stdout
    objects, load_offset = [], None
    for line in listing.splitlines():
        fields = line.split(maxsplit=3)
        if len(fields) == 4 and fields[3] == "minicnn_emu_launch_0":
            load_offset = ctypes.cast(library.minicnn_emu_launch_0, ctypes.c_void_p).value - int(fields[0], 16)
        elif len(fields) == 4 and fields[2] in "bBdDuVv" and ")::" in fields[3]:
            objects.append((int(fields[0], 16), int(fields[1], 16), fields[3].replace(" ", "")))
    arrays = []
    for name in name_expressions:
        prefix = name.replace(" ", "") + "("
        mine = [(address, size) for address, size, owner in objects
                if owner.removeprefix("void").startswith(prefix)]
        arrays.append(([address + load_offset for address, _ in mine], [size for _, size in mine]))
    return arrays
