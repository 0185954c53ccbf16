"""The plain twins of the fast kernels: each operation as its definition, in a few lines of NumPy.

No threads, no Numba, no stride tricks: loops over the window of an operation with one
array expression per step, and the formula in each docstring. They are what the fast
kernels compute, written for the reader: the tests compare every fast kernel with them,
and `minicnn.functional.set_conv_algorithm('reference')` sends every convolution through
conv.py. They take NumPy or CuPy arrays, and empty batches.

    conv.py     convolution forward, input gradient and weight gradient (stride, padding,
                dilation, groups), the twin of im2col.py, conv_numba.py, winograd.py and
                gpu_kernels/conv.py
    pool.py     max and average pooling over window descriptions, average pooling's
                backward and the scatter-add of max pooling's backward, the twin of
                pool_numba.py and gpu_kernels/pool.py
    int8.py     integer arithmetic of quantized inference: int8 x uint8 products summed in
                int32, requantization by a fixed-point multiplier and shift, quantized add,
                the twin of cpu_kernels/int8.py
    roi_align.py  RoIAlign forward and backward as two interpolation matrices per RoI, and
                RoIPool's max over quantised bins, the twin of roi_align_numba.py and
                gpu_kernels/roi_align.py
"""
