"""GPU kernels: thin wrappers that allocate CuPy outputs and launch the CUDA C kernels of
kernels/*.cu. Called only from functional ops (and the fused optimizer updates). Under the CPU
emulator (backend/cuda_kernels.py: `emulated()`) the same wrappers run on NumPy arrays."""
