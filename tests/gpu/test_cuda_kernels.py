"""The CUDA kernel sources ship with the package, compile, and agree with NumPy.

Tests that need a GPU use the `gpu` marker and skip with a reason where none is present.
"""
import numpy
import pytest

import minicnn
from minicnn.backend import cuda_kernels
from minicnn.backend.device import cuda_is_available

FAMILIES = ("im2col", "pool", "batch_norm", "softmax_cross_entropy", "optim")
needs_gpu = pytest.mark.skipif(not cuda_is_available(), reason="CUDA is not available (needs CuPy and an NVIDIA GPU)")


def test_kernel_sources_are_installed_with_the_package():
    for family in FAMILIES:
        source = cuda_kernels.KERNEL_DIR / f"{family}.cu"
        assert source.is_file(), f"{source} missing: kernels/ must be package data"
        assert cuda_kernels._TEMPLATE_KERNEL.findall(source.read_text())


def test_asking_for_cuda_without_a_gpu_explains_how_to_install():
    if cuda_is_available():
        pytest.skip("a GPU is present")
    assert minicnn.cuda.is_available() is False
    with pytest.raises(RuntimeError, match=r'pip install -e "\.\[gpu\]"'):
        minicnn.zeros(2, device="cuda")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("family", FAMILIES)
def test_every_kernel_compiles_for_float_and_double(family):
    source = (cuda_kernels.KERNEL_DIR / f"{family}.cu").read_text()
    for name in cuda_kernels._TEMPLATE_KERNEL.findall(source):
        for dtype in (numpy.float32, numpy.float64):
            assert cuda_kernels.get_kernel(family, name, dtype) is not None


@pytest.mark.gpu
@needs_gpu
def test_col2im_is_the_adjoint_of_im2col():
    import cupy
    from minicnn.cpu_kernels.conv_geometry import ConvGeometry
    from minicnn.gpu_kernels.conv import col2im, im2col
    rng = numpy.random.default_rng(0)
    x = cupy.asarray(rng.standard_normal((2, 3, 7, 6)))
    out_size = ((7 + 2 - 2 * 2 - 1) // 2 + 1, (6 + 2 - 1 - 1) // 1 + 1)
    geometry = ConvGeometry(in_size=(7, 6), out_size=out_size, kernel=(3, 2), stride=(2, 1),
                            padding=((1, 1), (1, 1)), dilation=(2, 1), groups=1)
    col = im2col(x, geometry)
    c = cupy.asarray(rng.standard_normal(col.shape))
    left = float((col * c).sum())
    right = float((x * col2im(c, geometry, 2, 3)).sum())
    assert abs(left - right) < 1e-10 * max(1.0, abs(left))


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("nesterov", [False, True])
def test_fused_sgd_momentum_matches_the_formula(nesterov):
    import cupy
    from minicnn.gpu_kernels.optim import sgd_momentum_update
    rng = numpy.random.default_rng(1)
    p, g, buf = (rng.standard_normal(50) for _ in range(3))
    lr, momentum, dampening, decay = 0.1, 0.9, 0.1, 0.01
    gpu = [cupy.asarray(a) for a in (p, g, buf)]
    sgd_momentum_update(*gpu, lr, momentum, dampening, decay, nesterov, first_step=False)
    d = g + decay * p
    b = momentum * buf + (1 - dampening) * d
    expected = p - lr * (d + momentum * b if nesterov else b)
    numpy.testing.assert_allclose(gpu[0].get(), expected, rtol=1e-12)
    numpy.testing.assert_allclose(gpu[2].get(), b, rtol=1e-12)


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("decoupled", [False, True])
def test_fused_adam_matches_the_formula(decoupled):
    import cupy
    from minicnn.gpu_kernels.optim import adam_update
    rng = numpy.random.default_rng(2)
    p, g = rng.standard_normal(40), rng.standard_normal(40)
    m, v = rng.standard_normal(40), rng.random(40)
    lr, b1, b2, eps, decay, step = 1e-2, 0.9, 0.999, 1e-8, 0.05, 3
    gpu = [cupy.asarray(a) for a in (p, g, m, v)]
    adam_update(*gpu, step, lr, b1, b2, eps, decay, decoupled)
    q, d = (p * (1 - lr * decay), g) if decoupled else (p, g + decay * p)
    m2, v2 = b1 * m + (1 - b1) * d, b2 * v + (1 - b2) * d * d
    expected = q - lr / (1 - b1 ** step) * m2 / (numpy.sqrt(v2) / numpy.sqrt(1 - b2 ** step) + eps)
    numpy.testing.assert_allclose(gpu[0].get(), expected, rtol=1e-12)


@pytest.mark.gpu
@needs_gpu
def test_int8_ops_on_the_gpu_give_the_cpu_codes():
    """kernels/int8.cu through functional/quantized.py on CuPy codes against the Numba kernels
    on the same NumPy codes: convolution (padding, fused ReLU), linear layer, add."""
    import cupy
    import minicnn.functional as F
    rng = numpy.random.default_rng(3)
    x = F.quantize_per_tensor(rng.uniform(-1, 1, (4, 3, 9, 9)).astype(numpy.float32), 1 / 127, 128)
    weight = F.quantize_per_channel(rng.standard_normal((5, 3, 3, 3)).astype(numpy.float32),
                                    rng.uniform(0.01, 0.03, 5), numpy.zeros(5, int), axis=0)
    fc = F.quantize_per_channel(rng.standard_normal((6, 5 * 81)).astype(numpy.float32),
                                numpy.full(6, 0.02), numpy.zeros(6, int), axis=0)
    bias = rng.standard_normal(5)

    def run(codes):
        x_here = F.QTensor(codes, x.scale, x.zero_point)
        y = F.quantized_conv2d(x_here, weight, bias, padding=1, scale=0.05, zero_point=10,
                               relu=True)
        total = F.quantized_add(y, y, scale=0.1, zero_point=10)
        return [F.quantized_linear(total.reshape(4, -1), fc, None, scale=0.5, zero_point=128),
                y, total]
    for on_gpu, on_cpu in zip(run(cupy.asarray(x.codes)), run(x.codes)):
        numpy.testing.assert_array_equal(on_gpu.codes.get(), on_cpu.codes)


@pytest.mark.gpu
@needs_gpu
def test_the_int8_kernels_compile():
    for name in cuda_kernels.family_names("int8"):
        assert cuda_kernels.get_kernel("int8", name) is not None
