"""Plain NumPy references of the kernels: what each operation computes, written to be read.

The fast kernels beside this package (Numba, CUDA) are optimisations of these, and the
tests compare each fast kernel with its reference here. One module per family:

    int8.py     integer arithmetic of quantized inference: int8 x uint8 products summed in
                int32, requantization by a fixed-point multiplier and shift, quantized add
"""
