"""prepare, prepare_qat and calibrate: put observers in a float model and show it data.

    model = quantizable(float_model)                    # quantizable.py
    model = fuse_modules(model.eval(), fusion_groups(model))
    model = prepare(model)                              # observers on the layer outputs
    calibrate(model, loader, batches=10)                # they see representative data
    int8_model = convert(model)                         # convert.py

prepare walks the model (mapping.py says how each layer is treated): each layer that will
have its own output scale gets an observer (the qconfig's activation factory) as its child
`activation_post_process`, fed by a forward hook, as in PyTorch. A layer with no quantized
version is wrapped in a FloatIsland, DeQuantStub -> layer -> QuantStub, so that it keeps
working in float inside the int8 model; a warning names each, and float_islands(model)
lists them. prepare_qat does the same with fake quantizers, and swaps the convolutions and
linear layers for their QAT forms (qat.py), so that training sees the int8 rounding.
"""
import copy
import warnings

from ..autograd import Tensor, no_grad
from .fuse import ConvBn2d, ConvBnReLU2d, ConvReLU2d, LinearReLU
from .mapping import OBSERVED, is_composite, unsupported_reason
from .modules import FloatIsland
from .qat import QATConv2d, QATLinear
from .qconfig import default_qat_qconfig, default_qconfig
from .stubs import DeQuantStub, QuantStub
from ..nn import Conv2d, Linear


def prepare(model, qconfig=None, inplace=False):
    """`model` (a copy, unless inplace) with observers for post-training quantization."""
    return _prepare("prepare", model, qconfig or default_qconfig, inplace, qat=False)


def prepare_qat(model, qconfig=None, inplace=False):
    """`model` (a copy, unless inplace) ready for quantization-aware training: fake
    quantizers on the observed outputs and on the weights (fuse with fuse_modules_qat first)."""
    return _prepare("prepare_qat", model, qconfig or default_qat_qconfig, inplace, qat=True)


def _prepare(op, model, qconfig, inplace, qat):
    if not is_composite(model):
        raise ValueError(f"{op}: cannot see inside {type(model).__name__}: its forward may do "
                         "work between its layers that has no place for an observer. Use "
                         "quantizable(model), or register_composite its class if its forward "
                         "only chains its children")
    if any(getattr(module, "qconfig", None) is not None for module in model.modules()):
        raise ValueError(f"{op}: the model is prepared already")
    if not inplace:
        model = copy.deepcopy(model)
    islands = []
    _attach(model, qconfig, "", islands, qat)
    for path, reason in islands:
        warnings.warn(f"{op}: '{path}' stays in float32 between a DeQuantStub and a QuantStub: "
                      f"{reason}", stacklevel=3)
    return model


def _attach(module, qconfig, prefix, islands, qat):
    for name, child in list(module.named_children()):
        path, reason = prefix + name, unsupported_reason(child)
        if reason is None and type(child) in OBSERVED:
            if qat:
                child = _qat_version(child, qconfig)
                setattr(module, name, child)
            observe_output(child, qconfig)
        elif reason is None and is_composite(child):
            _attach(child, qconfig, path + ".", islands, qat)
        elif reason is not None:
            island = FloatIsland(child, DeQuantStub(), QuantStub())
            observe_output(island.quant, qconfig)
            setattr(module, name, island)
            islands.append((path, reason))
        # PASS_THROUGH layers need nothing until convert.


def observe_output(layer, qconfig):
    """Give `layer` the qconfig's activation observer (or fake quantizer) on its output."""
    layer.qconfig = qconfig
    layer.activation_post_process = qconfig.activation()
    layer.register_forward_hook(_observe)


def _observe(layer, args, output):
    return layer.activation_post_process(output)


def _qat_version(layer, qconfig):
    kind = type(layer)
    if kind in (QuantStub, QATConv2d, QATLinear) or kind not in _QAT_FORMS:
        return layer
    return _QAT_FORMS[kind](layer, qconfig.weight())


_QAT_FORMS = {
    Conv2d: lambda layer, fake_quant: QATConv2d(layer, fake_quant),
    ConvReLU2d: lambda layer, fake_quant: QATConv2d(layer[0], fake_quant, relu=True),
    ConvBn2d: lambda layer, fake_quant: QATConv2d(layer[0], fake_quant, bn=layer[1]),
    ConvBnReLU2d: lambda layer, fake_quant: QATConv2d(layer[0], fake_quant, bn=layer[1], relu=True),
    Linear: lambda layer, fake_quant: QATLinear(layer, fake_quant),
    LinearReLU: lambda layer, fake_quant: QATLinear(layer[0], fake_quant, relu=True),
}


def float_islands(model):
    """The dotted names of the layers that stay in float (FloatIslands) in a prepared model."""
    return [name for name, module in model.named_modules() if isinstance(module, FloatIsland)]


def calibrate(model, data, batches=None):
    """Run up to `batches` batches of `data` (a DataLoader of (images, labels) or of images,
    or a list of such) through the prepared model in eval mode, so its observers see them.
    Returns the number of images seen."""
    model.eval()
    seen = 0
    with no_grad():
        for index, batch in enumerate(data):
            if batches is not None and index >= batches:
                break
            images = batch[0] if isinstance(batch, (tuple, list)) else batch
            images = images if isinstance(images, Tensor) else Tensor(images)
            model(images)
            seen += len(images)
    if not seen:
        raise ValueError("calibrate: the calibration data gave no images; the observers need "
                         "a few hundred representative images to choose the activation scales")
    return seen
