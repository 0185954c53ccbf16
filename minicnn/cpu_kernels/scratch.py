"""Per-thread scratch buffers that the CPU kernels reuse from one call to the next.

A kernel's working arrays (the columns of a block of samples, a Winograd tile stack) are
megabytes each, asked for block after block and call after call in the same sizes. A buffer
kept per thread and name is allocated once and stays warm in that thread's cache, instead
of going back to the allocator each time (backend/memory.py says what that cost when the
allocator handed the pages back to the operating system).
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
