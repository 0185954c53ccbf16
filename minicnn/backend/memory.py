"""Keep the C allocator from returning freed arrays' memory to the operating system at once.

A process-wide choice, so it is never made on import (a notebook's own code shares the
allocator): the `minicnn` command and the benchmark scripts call keep_freed_memory(), and a
script of your own may.

A training step allocates and frees arrays of one to a few megabytes, many times, in the same
sizes every step. glibc's malloc serves requests above its mmap threshold (128 KiB at start)
with fresh pages from the operating system and unmaps them on free, and trims the heap when
more than its trim threshold lies free at the top; either way the next step touches new pages
and pays a page fault for each 4 KiB. glibc raises both thresholds by itself after it frees a
large mapped block, up to 32 MiB and 64 MiB, so a training loop soon stops paying (measured
on LeNet-5 and ResNet-20: no page faults per step from the third step on, with or without
this call), but how soon depended on which arrays happened to be freed first. Setting those
values from the start makes every run pay it never. Elsewhere than glibc (macOS, musl)
nothing is changed.
"""
import ctypes
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3     # mallopt's parameter numbers, from malloc.h
_LARGEST_MMAP_THRESHOLD = 32 << 20                # glibc's limit on 64-bit systems


def keep_freed_memory():
    """For the whole process: serve arrays up to 32 MiB from the heap and keep up to 64 MiB
    of it free for reuse."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):     # not glibc
        return
    mallopt(_M_MMAP_THRESHOLD, _LARGEST_MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, 2 * _LARGEST_MMAP_THRESHOLD)
