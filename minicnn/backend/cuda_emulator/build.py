"""Compiling an emulated module: g++ turns one translation unit into a shared library, cached.

The library's file name is the SHA-256 of everything that decides its contents (the
translation unit, cuda_emulator.h, the compiler command and the compiler's version), so a
source is compiled once per machine and every later process loads the cached file. The
cache lives in the user's cache folder, not in the package (which may be read-only):
$MINICNN_CACHE_DIR, else $XDG_CACHE_HOME/minicnn, else ~/.cache/minicnn, each with a
cuda_emulator/ folder; a folder that cannot be written falls back to the temporary folder.
Files appear atomically (written under a temporary name, then renamed), so processes
compiling the same source at once never load a half-written library. A source that does not
compile keeps its diagnostics there too (<key>.error), so it fails at once the next time.
"""
import functools
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

HEADER = pathlib.Path(__file__).resolve().parent / "cuda_emulator.h"

# -ffp-contract=off: no fused multiply-adds, so float results do not depend on the optimiser.
# No _FORTIFY_SOURCE: its longjmp refuses to jump between fiber stacks (cuda_emulator.h).
# -fvisibility=hidden: each library keeps its own __shared__ arrays and scheduler; otherwise
# the dynamic linker binds a template's static variables (GNU "unique" symbols) to the first
# library that defined them, and two modules with a kernel of the same name share them.
FLAGS = ("-std=c++20", "-O1", "-fPIC", "-shared", "-fvisibility=hidden", "-ffp-contract=off",
         "-U_FORTIFY_SOURCE", "-fno-strict-aliasing", "-w")
THREAD_FLAGS = ("-DMINICNN_EMULATOR_OS_THREADS", "-pthread")
SANITIZER_FLAGS = ("-fsanitize=thread", "-g")


class CompileError(RuntimeError):
    """g++ rejected an emulated module; the message holds its diagnostics."""


def compiler():
    """The C++ compiler: $CXX, else g++ (GCC 10 or later, for C++20)."""
    name = os.environ.get("CXX", "g++")
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"CUDA emulator: the C++ compiler {name!r} was not found; install g++ "
                           "(GCC 10 or later) or point $CXX at a C++20 compiler")
    return path


@functools.lru_cache(maxsize=None)
def _compiler_version(path):
    return subprocess.run([path, "--version"], capture_output=True, text=True).stdout


def cache_dir():
    """The folder of compiled modules, created if needed (see the module docstring)."""
    root = os.environ.get("MINICNN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "minicnn")
    for folder in (pathlib.Path(root) / "cuda_emulator",
                   pathlib.Path(tempfile.gettempdir()) / f"minicnn-{os.getuid()}" / "cuda_emulator"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise RuntimeError(f"CUDA emulator: no writable cache folder ({root} and the temporary "
                       "folder are not writable); set $MINICNN_CACHE_DIR")


def build(unit, *, os_threads=False, sanitize_threads=False, defines=()):
    """The path of the shared library compiled from C++ source `unit` (cached)."""
    command = [compiler(), *FLAGS, *defines, "-I", str(HEADER.parent)]
    if os_threads or sanitize_threads:
        command += THREAD_FLAGS
    if sanitize_threads:
        command += SANITIZER_FLAGS
    key = hashlib.sha256("\0".join([unit, HEADER.read_text(), *command[1:],
                                    _compiler_version(command[0])]).encode()).hexdigest()[:32]
    folder = cache_dir()
    library, failure = folder / f"{key}.so", folder / f"{key}.error"
    if library.exists():
        return library
    if failure.exists():
        raise CompileError(failure.read_text())
    source = _write_atomically(folder / f"{key}.cpp", unit)
    partial = folder / f"{key}.{os.getpid()}.so.tmp"
    result = subprocess.run(command + ["-x", "c++", str(source), "-o", str(partial)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        message = f"CUDA emulator: g++ could not compile {source}:\n{result.stderr}"
        _write_atomically(failure, message)
        raise CompileError(message)
    os.replace(partial, library)
    return library


def _write_atomically(path, text):
    """Write `text` to `path` under a temporary name first, then rename it into place."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as file:
        file.write(text)
    os.replace(file.name, path)
    return path
