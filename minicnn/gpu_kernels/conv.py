"""im2col / col2im on the GPU (kernels/im2col.cu). Shapes:
    x (N, C, H, W)  <->  col (N, C * kernel_h * kernel_w, out_h * out_w)
"""
from ..backend import array_module
from ..backend.cuda_kernels import get_kernel, int32, launch


def _geometry(channels, height, width, kernel, stride, padding, dilation, out_size):
    return tuple(int32(v) for v in (channels, height, width, *kernel, *stride, *padding,
                                    *dilation, *out_size))


def im2col(x, kernel, stride, padding, dilation, out_size):
    cupy = array_module(x)
    n, c, h, w = x.shape
    x = cupy.ascontiguousarray(x)
    col = cupy.empty((n, c * kernel[0] * kernel[1], out_size[0] * out_size[1]), dtype=x.dtype)
    launch(get_kernel("im2col", "im2col", x.dtype), col.size, x, col, int32(n),
           *_geometry(c, h, w, kernel, stride, padding, dilation, out_size))
    return col


def col2im(col, input_shape, kernel, stride, padding, dilation, out_size):
    cupy = array_module(col)
    n, c, h, w = input_shape
    col = cupy.ascontiguousarray(col)
    x = cupy.empty(input_shape, dtype=col.dtype)
    launch(get_kernel("im2col", "col2im", col.dtype), x.size, col, x, int32(n),
           *_geometry(c, h, w, kernel, stride, padding, dilation, out_size))
    return x
