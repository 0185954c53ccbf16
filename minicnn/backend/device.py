"""Devices: where a tensor's array lives ('cpu' for NumPy, 'cuda:N' for CuPy)."""
import importlib

from .arrays import is_cupy_array


class Device:
    """A device name like torch.device: Device('cpu'), Device('cuda'), Device('cuda:1')."""

    def __init__(self, spec="cpu"):
        if isinstance(spec, Device):
            spec = str(spec)
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, index = spec.partition(":")
        if kind not in ("cpu", "cuda") or (index and not index.isdigit()):
            raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {spec!r}")
        self.type = kind
        self.index = int(index) if index else (0 if kind == "cuda" else None)

    def __str__(self):
        return "cpu" if self.type == "cpu" else f"cuda:{self.index}"

    __repr__ = lambda self: f"device('{self}')"

    def __eq__(self, other):
        try:
            return str(self) == str(Device(other))
        except (TypeError, ValueError):
            return False

    def __hash__(self):
        return hash(str(self))


def cupy_or_none():
    try:
        return importlib.import_module("cupy")
    except Exception:  # any failure to load CUDA libraries means no usable GPU
        return None


def cuda_is_available():
    cupy = cupy_or_none()
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def require_cupy():
    cupy = cupy_or_none()
    if cupy is None or not cuda_is_available():
        raise RuntimeError(
            "CUDA is not available: minicnn needs CuPy and an NVIDIA GPU for device 'cuda'. "
            "Install the GPU extra with: pip install -e \".[gpu]\"")
    return cupy


def device_of(array):
    if is_cupy_array(array):
        return Device(f"cuda:{array.device.id}")
    return Device("cpu")


def move_array(array, device):
    """Copy `array` to `device` (a no-op when it is already there)."""
    device = Device(device)
    if device == device_of(array):
        return array
    if device.type == "cpu":
        return array.get()
    cupy = require_cupy()
    with cupy.cuda.Device(device.index):
        return cupy.asarray(array)
