"""Sixteen int32 lanes as one Numba value, and the x86 instruction that multiplies bytes into them.

Numba hands a kernel's loops to LLVM, which turns them into vector instructions where it
sees how. The products of uint8 by int8 codes it does not see how to do well: it widens the
bytes to 16 bits and multiplies pairs (pmaddwd), 32 products an instruction at best. x86's
AVX-512 VNNI has one instruction for exactly this sum, vpdpbusd: in each of the sixteen
32-bit lanes of a 512-bit register it multiplies 4 unsigned bytes of one operand by the 4
signed bytes of the other and adds the 4 products to the lane, 64 products at once (the
integer kernels of PyTorch's fbgemm are built on it). This module lets a Numba kernel name
that instruction: a value type `int32x16` (one 512-bit register) and four operations on it,
each an @intrinsic that writes a line or two of LLVM IR:

    splat(value)              [value] * 16, an int32x16 of sixteen copies
    load16(array, i)          array[i:i + 16] of a 1-d int32 array (unchecked: i + 16 <= len)
    store16(array, i, v)      array[i:i + 16] = v
    dot4(acc, u, s)           acc[l] + sum_{t < 4} u_byte[4 l + t] * s_byte[4 l + t], l < 16:
                              the bytes of u read as uint8, of s as int8 (vpdpbusd)

dot4 adds without saturating: each product fits 16 bits and each lane's sum wraps modulo 2^32,
as int32 additions in NumPy do. A kernel that calls dot4 compiles only where has_vnni() is
true (elsewhere LLVM has no instruction for it), so callers check first and keep a portable
kernel beside it (cpu_kernels/int8.py does).
"""
import llvmlite.binding
from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic, models, register_model

__all__ = ["dot4", "has_vnni", "int32x16", "load16", "splat", "store16"]

_LANES = 16
_VECTOR = ir.VectorType(ir.IntType(32), _LANES)


class Int32x16(types.Type):
    """Numba's type of the value: sixteen int32 lanes, kept in one vector register."""

    def __init__(self):
        super().__init__(name="int32x16")


int32x16 = Int32x16()


@register_model(Int32x16)
class _Int32x16Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VECTOR)


def has_vnni():
    """Whether the CPU Numba compiles for has AVX-512 VNNI (its feature list names
    avx512vnni, as llvmlite reports the host's, or as NUMBA_CPU_FEATURES overrides it).
    False where NUMBA_DISABLE_JIT runs the kernels as Python: the intrinsics exist only
    in compiled code."""
    if config.DISABLE_JIT:
        return False
    features = config.CPU_FEATURES or llvmlite.binding.get_host_cpu_features().flatten()
    return "+avx512vnni" in features.split(",")


def _element_pointer(context, builder, array_type, array, index):
    """The address of array[index] as a pointer to sixteen int32 lanes."""
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [index]), _VECTOR.as_pointer())


def _check_int32_array(name, array):
    if not (isinstance(array, types.Array) and array.dtype == types.int32 and array.ndim == 1):
        raise TypeError(f"{name}: expected a 1-d int32 array, got {array}")


@intrinsic
def splat(typingctx, value):
    def codegen(context, builder, signature, args):
        lane = context.cast(builder, args[0], signature.args[0], types.int32)
        one = builder.insert_element(ir.Constant(_VECTOR, ir.Undefined), lane,
                                     ir.Constant(ir.IntType(32), 0))
        return builder.shuffle_vector(one, ir.Constant(_VECTOR, ir.Undefined),
                                      ir.Constant(_VECTOR, [0] * _LANES))
    return int32x16(value), codegen


@intrinsic
def load16(typingctx, array, index):
    _check_int32_array("load16", array)

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load(pointer, align=4)
    return int32x16(array, index), codegen


@intrinsic
def store16(typingctx, array, index, vector):
    _check_int32_array("store16", array)

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature.args[0], args[0], args[1])
        builder.store(args[2], pointer, align=4)
        return context.get_dummy_value()
    return types.none(array, index, vector), codegen


@intrinsic
def dot4(typingctx, acc, unsigned, signed):
    if (acc, unsigned, signed) != (int32x16,) * 3:
        raise TypeError(f"dot4: expected three int32x16 values, got {acc}, {unsigned}, {signed}")

    def codegen(context, builder, signature, args):
        # Declared with int32 vectors, the form LLVM up to version 20 takes; later versions
        # read it as their <64 x i8> form (LLVM upgrades old intrinsic signatures as it parses).
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_VECTOR, [_VECTOR] * 3), "llvm.x86.avx512.vpdpbusd.512")
        return builder.call(function, args)
    return int32x16(acc, unsigned, signed), codegen
