"""minicnn.cuda: is a GPU usable, and how many. Mirrors torch.cuda's most used calls."""
from .backend.device import cuda_is_available, cupy_or_none


def is_available():
    """True when CuPy imports and sees at least one CUDA device."""
    return cuda_is_available()


def device_count():
    return cupy_or_none().cuda.runtime.getDeviceCount() if is_available() else 0


def synchronize():
    """Wait for all queued GPU work to finish (needed before reading a wall-clock timer)."""
    if is_available():
        cupy_or_none().cuda.get_current_stream().synchronize()
