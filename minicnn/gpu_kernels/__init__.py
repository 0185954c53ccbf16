"""GPU kernels: thin wrappers that allocate CuPy outputs and launch the CUDA C kernels of
kernels/*.cu. Called only from functional ops (and the fused optimizer updates)."""
