"""CPU kernels: im2col with NumPy stride tricks, and Numba kernels. Called only from functional ops."""
