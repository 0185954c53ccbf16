"""Will one training step fit in memory? An estimate made before the first step.

A step keeps every activation its backward pass needs, so its memory grows with the batch
size; when it outgrows the machine, the operating system kills the process without a
message. `estimate_step_memory` runs the forward pass on 2 and on 4 samples with the graph
recorded, while tracemalloc (to which NumPy reports its allocations) counts what stays
allocated: the saved activations. Their difference is two samples' worth. A step needs
about twice that per sample (the backward pass holds the activations' gradients beside them;
measured 1.1 to 3.3 times on LeNet-5, the MLP, ResNet-20 and VGG-small at batches of 64 and
256), plus gradients and optimizer state for every weight. It is a rough estimate, meant to
catch a batch many times too large.
"""
import os
import tracemalloc
import warnings

from ..backend.random import get_rng_state, set_rng_state
from ..data import default_collate

PROBE_SIZES = (2, 4)    # not 1: batch norm in training needs two values per channel
STEP_PER_ACTIVATION = 2
STATE_PER_WEIGHT = 3    # the gradient and, for Adam, two moments


def available_memory():
    """Bytes this process can still allocate, or None where the system does not say: Linux's
    MemAvailable, lowered to what is left under a container's (cgroup v2) memory limit."""
    limits = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:
        try:
            limits.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    try:
        with open("/sys/fs/cgroup/memory.max") as f, open("/sys/fs/cgroup/memory.current") as g:
            limit, used = f.read().strip(), g.read().strip()
        if limit != "max":
            limits.append(int(limit) - int(used))
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None


def bytes_kept(function):
    """Bytes that function() allocated and that are still held while its result lives."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    try:
        result = function()
        held = tracemalloc.get_traced_memory()[0] - before
        del result
        return held
    finally:
        if not tracing:
            tracemalloc.stop()


def estimate_step_memory(model, step_loss, dataset, batch_size, collate=default_collate):
    """(bytes for one step on batch_size samples of `dataset`, activation bytes per sample);
    step_loss(batch) is the training step's loss on samples collated by `collate`.

    Leaves everything as it was: the global RNG (augmentation and dropout draw from it, and
    a resumed run must draw what the uninterrupted one did), batch norm's running
    statistics and the training mode. No backward pass is run, so no gradient is touched.
    """
    buffers = [(b, b.data.copy()) for b in model.buffers()]
    rng_state, was_training = get_rng_state(), model.training

    def forward(samples):
        # The loss holds the graph and what it saved.
        return step_loss(collate([dataset[i] for i in range(samples)]))

    try:
        model.train()
        # Unmeasured first: a process's first forward pass keeps one-time allocations
        # (kernels' scratch buffers, caches) that would count as the small batch's.
        forward(PROBE_SIZES[0])
        small, large = (bytes_kept(lambda: forward(n)) for n in PROBE_SIZES)
    finally:
        set_rng_state(rng_state)
        model.train(was_training)
        for buffer, saved in buffers:
            buffer.data[...] = saved
    per_sample = max(large - small, 0) / (PROBE_SIZES[1] - PROBE_SIZES[0])
    weights = sum(p.data.nbytes for p in model.parameters())
    needed = STEP_PER_ACTIVATION * per_sample * batch_size + STATE_PER_WEIGHT * weights
    return int(needed), int(per_sample)


def warn_if_step_too_large(model, step_loss, loader, device):
    """Warn (RuntimeWarning) when a step on a full batch of `loader` needs more memory than
    is available. Only for CPU tensors: tracemalloc does not see GPU memory."""
    dataset, batch_size = getattr(loader, "dataset", None), getattr(loader, "batch_size", None)
    if str(device) != "cpu" or dataset is None or not batch_size or len(dataset) < PROBE_SIZES[1]:
        return
    batch_size = min(batch_size, len(dataset))
    available = available_memory()
    if available is None:
        return
    collate = getattr(loader, "collate_fn", None) or default_collate
    needed, per_sample = estimate_step_memory(model, step_loss, dataset, batch_size, collate)
    if needed > available:
        warnings.warn(f"fit: one training step on a batch of {batch_size} needs about "
                      f"{_size(needed)} (activations of {_size(per_sample)} per sample, "
                      f"measured on {PROBE_SIZES[0]} and {PROBE_SIZES[1]} samples), but only "
                      f"{_size(available)} of memory is available: the system may kill the "
                      "process without a message. A smaller batch size (--batch-size) avoids "
                      "this.", RuntimeWarning, stacklevel=3)


def _size(count):
    """A number of bytes in the largest unit that keeps it at least 1: '3.2 GiB'."""
    for power, unit in ((3, "GiB"), (2, "MiB"), (1, "KiB")):
        if count >= 1024 ** power:
            return f"{count / 1024 ** power:.1f} {unit}"
    return f"{count} bytes"
