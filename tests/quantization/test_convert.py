"""prepare -> calibrate -> convert (quantization/prepare.py, convert.py, quantizable.py):
int8 models that compute what their float models do, with PyTorch's eager-mode numbers."""
import warnings

import numpy
import pytest

import minicnn
from minicnn import nn
from minicnn import quantization as Q
from minicnn.models import LeNet5, resnet_tiny


def _trained_like(model, shape, seed=0):
    """A model whose BatchNorms have statistics and whose weights are not all tiny."""
    minicnn.manual_seed(seed)
    model.train()
    with minicnn.no_grad():
        for _ in range(3):
            model(minicnn.rand(*shape))
    return model.eval()


def _outputs(model, x):
    with minicnn.no_grad():
        return model(x).numpy()


@pytest.mark.parametrize("per_channel", [True, False])
def test_int8_lenet_and_resnet_follow_the_float_model(per_channel):
    for model, shape in ((LeNet5(), (32, 1, 28, 28)), (resnet_tiny(num_classes=5), (32, 3, 32, 32))):
        model = _trained_like(model, shape)
        x = minicnn.rand(*shape)
        int8_model = Q.quantize_model(model, [x], qconfig=Q.get_qconfig(per_channel=per_channel))
        assert not any(isinstance(m, (nn.Conv2d, nn.Linear)) for m in int8_model.modules())
        expected, got = _outputs(model, x), _outputs(int8_model, x)
        # Errors of a few output steps, where the outputs span the whole 8-bit range.
        assert numpy.abs(got - expected).max() < 0.05 * numpy.ptp(expected)
        assert (got.argmax(1) == expected.argmax(1)).mean() >= 0.9


def test_lenet_agrees_with_torch_eager_mode_quantization(torch):
    """The same weights and calibration images through torch.ao.quantization's fuse, prepare
    and convert (fbgemm, the same observers): outputs within a few steps of each other."""
    warnings.filterwarnings("ignore", message=".*deprecated.*")
    import torch.ao.quantization as tq
    torch.backends.quantized.engine = "fbgemm"
    ours = _trained_like(LeNet5(), (8, 1, 28, 28))
    theirs = torch.nn.Sequential(
        tq.QuantStub(), torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10), tq.DeQuantStub()).eval()
    layers = [m for m in ours.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for mine, their in zip(layers, [m for m in theirs if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]):
        their.weight.data, their.bias.data = torch.tensor(mine.weight.numpy()), torch.tensor(mine.bias.numpy())
    x = minicnn.rand(64, 1, 28, 28)
    theirs = tq.fuse_modules(theirs, [["1", "2"], ["4", "5"], ["8", "9"], ["10", "11"]])
    theirs.qconfig = tq.QConfig(activation=tq.MinMaxObserver.with_args(dtype=torch.quint8),
                                weight=tq.PerChannelMinMaxObserver.with_args(
                                    dtype=torch.qint8, qscheme=torch.per_channel_symmetric))
    tq.prepare(theirs, inplace=True)
    with torch.no_grad():
        theirs(torch.tensor(x.numpy()))
    tq.convert(theirs, inplace=True)
    int8_model = Q.quantize_model(ours, [x])
    assert float(int8_model.quant.scale.data) == pytest.approx(theirs[0].scale.item(), rel=1e-6)
    with torch.no_grad():
        expected = theirs(torch.tensor(x.numpy())).numpy()
    got = _outputs(int8_model, x)
    step = theirs[12].scale
    assert numpy.abs(got - expected).max() <= 4 * step
    assert (got.argmax(1) == expected.argmax(1)).mean() >= 0.95


def test_a_layer_without_int8_version_stays_float_between_stubs():
    model = _trained_like(nn.Sequential(nn.Conv2d(1, 4, 3), nn.Sigmoid(), nn.Conv2d(4, 2, 3, groups=2),
                                        nn.Flatten(), nn.Linear(2 * 4 * 4, 3)), (8, 1, 8, 8))
    x = minicnn.rand(16, 1, 8, 8)
    with pytest.warns(UserWarning) as caught:
        prepared = Q.prepare(Q.quantizable(model))
    messages = [str(w.message) for w in caught]
    assert any("'module.1' stays in float32" in m and "no quantized version of Sigmoid" in m for m in messages)
    assert any("'module.2' stays in float32" in m and "groups=2" in m for m in messages)
    assert Q.float_islands(prepared) == ["module.1", "module.2"]
    Q.calibrate(prepared, [x])
    int8_model = Q.convert(prepared)
    assert isinstance(int8_model.module[1].module, nn.Sigmoid)
    assert isinstance(int8_model.module[0], Q.QuantizedConv2d)
    expected, got = _outputs(model, x), _outputs(int8_model, x)
    assert numpy.abs(got - expected).max() < 0.05 * numpy.ptp(expected)


def test_errors_name_the_problem_and_change_nothing():
    model = LeNet5().eval()
    before = {name: value.numpy().copy() for name, value in model.state_dict().items()}
    with pytest.raises(ValueError, match="calibrate: the calibration data gave no images"):
        Q.quantize_model(model, [])
    prepared = Q.prepare_for_ptq(model)
    with pytest.raises(ValueError, match="convert: the observer of 'quant' has seen no data"):
        Q.convert(prepared)
    with pytest.raises(ValueError, match="convert: the model has no observers"):
        Q.convert(model)
    with pytest.raises(ValueError, match="prepare: cannot see inside CifarResNet"):
        Q.prepare(resnet_tiny())
    with pytest.raises(ValueError, match="prepare: the model is prepared already"):
        Q.prepare(prepared)
    assert all((model.state_dict()[name].numpy() == value).all() for name, value in before.items())
    assert all(isinstance(m, (nn.Module)) and getattr(m, "qconfig", None) is None for m in model.modules())
