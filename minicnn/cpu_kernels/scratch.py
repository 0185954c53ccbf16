"""Per-thread scratch buffers that the CPU kernels reuse from one call to the next.

A kernel's working arrays (the columns of a block of samples, a Winograd tile stack) are
megabytes each. Allocated afresh on every call, such an array is handed to the C allocator,
which maps pages from the operating system for large sizes and returns them on free, so every
call pays a page fault per 4 KiB page it touches: measured 1,365 faults and 2.4 ms of a 7.7 ms
LeNet-5 training step. A buffer kept per thread and name is mapped once and stays warm in cache.
"""
import math
import threading

import numpy

_local = threading.local()


def scratch(name, shape, dtype):
    """An uninitialised array of `shape` and `dtype`: this thread's buffer `name`.

    It is reused (and grown when a larger one is asked for) by every later call with the same
    name on the same thread, so it holds its contents only until then: a kernel asks for each
    buffer once and does not keep it past its return.
    """
    buffers = _local.__dict__.setdefault("buffers", {})
    dtype = numpy.dtype(dtype)
    size = math.prod((shape,) if isinstance(shape, int) else shape)
    memory = buffers.get(name)
    if memory is None or memory.size < size * dtype.itemsize:
        memory = buffers[name] = numpy.empty(size * dtype.itemsize, dtype=numpy.uint8)
    return memory[:size * dtype.itemsize].view(dtype).reshape(shape)
