"""minicnn.quantization: int8 models, after training (PTQ) or trained for it (QAT).

Eager-mode quantization, as torch.ao.quantization does it:

    from minicnn import quantization as Q
    model = Q.quantizable(float_model).eval()        # stubs at the ends, ReLUs as modules
    model = Q.fuse_modules(model, Q.fusion_groups(model))   # Conv+BN(+ReLU), Linear+ReLU
    model = Q.prepare(model)                          # observers (qconfig.py)
    Q.calibrate(model, loader, batches=8)             # they watch some data
    int8_model = Q.convert(model)                     # int8 layers (modules.py)
    Q.save_quantized(int8_model, "model_int8.npz")

Quantization-aware training swaps fuse_modules and prepare for fuse_modules_qat and
prepare_qat, trains a few epochs (freeze_bn_stats, disable_observer towards the end), then
converts. `quantize_model` does either in one call.

    observers.py      ranges -> scale and zero point (PyTorch's arithmetic)
    fake_quantize.py  FakeQuantize (observer + fake quantization) for QAT
    qconfig.py        which observers a layer gets
    stubs.py          QuantStub, DeQuantStub, QuantWrapper, FloatFunctional
    fuse.py           fusing Conv+BN(+ReLU), Linear+ReLU; BN folding
    qat.py            QATConv2d, QATLinear; freeze_bn_stats
    modules.py        the int8 layers
    mapping.py        which float layer becomes which int8 layer
    prepare.py        prepare, prepare_qat, calibrate
    convert.py        convert
    quantizable.py    minicnn's models made quantizable
    files.py          int8 model files
    workflow.py       quantize_model, model sizes, agreement

The integer arithmetic itself is in minicnn.functional.quantized and cpu_kernels/int8.py.
"""
from ..functional.quantized import QTensor, dequantize, quantize_per_channel, quantize_per_tensor
from .convert import convert
from .fake_quantize import (FakeQuantize, disable_fake_quant, disable_observer, enable_fake_quant,
                            enable_observer)
from .files import load_quantized, load_quantized_state, save_quantized
from .fuse import (ConvBn2d, ConvBnReLU2d, ConvReLU2d, LinearReLU, fold_bn, fuse_modules,
                   fuse_modules_qat, fusion_groups)
from .mapping import register_composite
from .modules import (DeQuantize, FloatIsland, QFunctional, Quantize, QuantizedAdaptiveAvgPool2d,
                      QuantizedConv2d, QuantizedFlatten, QuantizedLinear, QuantizedMaxPool2d,
                      QuantizedReLU)
from .observers import (MinMaxObserver, MovingAverageMinMaxObserver,
                        MovingAveragePerChannelMinMaxObserver, NoObservationsError,
                        PerChannelMinMaxObserver)
from .prepare import calibrate, float_islands, prepare, prepare_qat
from .qat import QATConv2d, QATLinear, freeze_bn_stats
from .qconfig import QConfig, default_qat_qconfig, default_qconfig, get_qconfig, per_tensor_qconfig
from .quantizable import QuantizableBasicBlock, QuantizableResNet, quantizable
from .stubs import DeQuantStub, FloatFunctional, QuantStub, QuantWrapper
from .workflow import (compare, images_per_second, predictions, prepare_for_ptq, prepare_for_qat,
                       quantized_architecture,
                       quantize_model, state_bytes, train_qat, weight_bytes)
