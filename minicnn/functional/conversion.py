"""Changing a tensor's dtype or device, differentiably: astype, to, cpu, cuda.

A cast or a copy to another device does not change values (up to rounding), so the
gradient passes straight through and is only brought back to where the input lives:
cast back to the input's dtype, copied back to the input's device. This is what lets a
float32 model run on float64 data, or a loss computed on the CPU reach weights on the GPU.
"""
from ..autograd import Function, Tensor
from ..backend import Device, as_dtype, is_floating, move_array

__all__ = ["astype", "to", "cpu", "cuda"]


class Cast(Function):
    """y = x converted to `dtype`.   dL/dx = dL/dy converted back to x's dtype.

    Casting to an integer or bool dtype cuts the graph: such outputs carry no gradient.
    """

    saved = {}

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        return astype(gy, self.inputs[0].dtype)


class ToDevice(Function):
    """y = x copied to `device`.   dL/dx = dL/dy copied back to x's device."""

    saved = {}

    def __init__(self, device):
        self.device = device

    def forward(self, x):
        return move_array(x, self.device)

    def backward(self, gy):
        return to(gy, self.inputs[0].device)


def astype(input, dtype):
    """`input` as `dtype` (a NumPy dtype or its name); the tensor itself if it already is."""
    dtype = as_dtype(dtype)
    return input if input.dtype == dtype else Cast(dtype)(input)


def match_dtype(gradient, input):
    """`gradient` cast to `input`'s dtype: an op that promoted float32 and float64 to float64
    must still hand the float32 input a float32 gradient."""
    return astype(gradient, input.dtype) if is_floating(input.dtype) else gradient


def to(input, *args, dtype=None, device=None):
    """Move and/or cast, like torch.Tensor.to: `to(x, 'cuda')`, `to(x, float64)`,
    `to(x, 'cuda', float64)`, `to(x, other_tensor)` (other's device and dtype), or keywords.

    Returns `input` itself when it already has the requested device and dtype.
    """
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, Device) or (isinstance(arg, str) and arg.partition(":")[0] in ("cpu", "cuda")):
            device = arg
        else:
            dtype = arg
    result = input
    if device is not None and Device(device) != input.device:
        result = ToDevice(Device(device))(result)
    return result if dtype is None else astype(result, dtype)


def cpu(input):
    return to(input, "cpu")


def cuda(input, device=None):
    """Copy to the GPU: `device` is an index or 'cuda:N' (default: the first GPU)."""
    if isinstance(device, int):
        device = f"cuda:{device}"
    return to(input, device or "cuda")
