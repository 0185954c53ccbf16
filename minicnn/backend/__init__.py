"""The lowest layer: array modules, dtypes, devices and random numbers. Imports nothing above."""
from .arrays import array_module, is_cupy_array, to_numpy
from .device import Device, cuda_is_available, device_of, move_array
from .dtypes import as_dtype, get_default_dtype, is_floating, set_default_dtype
from .memory import keep_freed_memory
from .random import manual_seed
