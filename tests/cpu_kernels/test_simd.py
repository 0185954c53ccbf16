"""simd.py's intrinsics: dot4 is vpdpbusd's sum (unsigned by signed bytes, wrapping int32
lanes), and has_vnni reads the feature list Numba compiles for."""
import numpy
import pytest
from numba.core import config

from minicnn.cpu_kernels import simd
from minicnn.cpu_kernels.jit import kernel

needs_vnni = pytest.mark.skipif(
    not simd.has_vnni(), reason="this CPU has no AVX-512 VNNI: vpdpbusd cannot be compiled "
                                "here (cpu_kernels/int8.py runs its portable kernels instead)")


@kernel
def _dot4_of_arrays(acc, unsigned, signed, out):
    simd.store16(out, 0, simd.dot4(simd.load16(acc, 0), simd.load16(unsigned, 0),
                                   simd.load16(signed, 0)))


@kernel
def _dot4_of_splat(acc, unsigned, word, out):
    simd.store16(out, 0, simd.dot4(simd.load16(acc, 0), simd.load16(unsigned, 0), simd.splat(word)))


@needs_vnni
def test_dot4_is_the_sum_of_four_byte_products_per_lane():
    rng = numpy.random.default_rng(0)
    unsigned = rng.integers(0, 256, 64).astype(numpy.uint8)
    signed = rng.integers(-128, 128, 64).astype(numpy.int8)
    unsigned[:4], signed[:4] = 255, -128                  # the extreme product, four times
    acc = rng.integers(-2 ** 31, 2 ** 31, 16).astype(numpy.int32)
    acc[0] = -2 ** 31 + 1000                              # lane 0 wraps below INT32_MIN
    out = numpy.empty(16, numpy.int32)
    _dot4_of_arrays(acc, unsigned.view(numpy.int32), signed.view(numpy.int32), out)
    products = (unsigned.astype(numpy.int64) * signed).reshape(16, 4).sum(axis=1)
    expected = ((acc + products + 2 ** 31) % 2 ** 32 - 2 ** 31).astype(numpy.int32)
    numpy.testing.assert_array_equal(out, expected)

    word = numpy.array([3, -128, 127, -1], numpy.int8)    # splat: one word in every lane
    _dot4_of_splat(acc, unsigned.view(numpy.int32), word.view(numpy.int32)[0], out)
    products = (unsigned.astype(numpy.int64).reshape(16, 4) * word).sum(axis=1)
    numpy.testing.assert_array_equal(out, ((acc + products + 2 ** 31) % 2 ** 32 - 2 ** 31))


def test_has_vnni_reads_the_features_numba_compiles_for(monkeypatch):
    monkeypatch.setattr(config, "CPU_FEATURES", "+avx2,+avx512f,-avx512vnni")
    assert not simd.has_vnni()
    monkeypatch.setattr(config, "CPU_FEATURES", "+avx2,+avx512f,+avx512vnni")
    assert simd.has_vnni()
    monkeypatch.setattr(config, "DISABLE_JIT", True)      # kernels run as Python: no intrinsics
    assert not simd.has_vnni()
