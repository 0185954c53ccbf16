"""Int8 model files (quantization/files.py): round trip, and clear refusals."""
import numpy
import pytest

import minicnn
from minicnn import quantization as Q
from minicnn.models import LeNet5, resnet_tiny


@pytest.fixture(scope="module")
def int8_lenet():
    minicnn.manual_seed(0)
    model = LeNet5().eval()
    return model, Q.quantize_model(model, [minicnn.rand(16, 1, 28, 28)])


def test_round_trip_holds_int8_codes(int8_lenet, tmp_path):
    model, int8_model = int8_lenet
    path = tmp_path / "lenet_int8.npz"
    Q.save_quantized(int8_model, path)
    stored = numpy.load(path)
    assert stored["state/module.features.0.weight"].dtype == numpy.int8
    loaded = Q.load_quantized(path, LeNet5())
    x = minicnn.rand(8, 1, 28, 28)
    with minicnn.no_grad():
        numpy.testing.assert_array_equal(loaded(x).numpy(), int8_model(x).numpy())
    assert Q.weight_bytes(int8_model) * 4 == Q.weight_bytes(model)


def test_another_architecture_is_refused_naming_the_entry(int8_lenet, tmp_path):
    _, int8_model = int8_lenet
    path = tmp_path / "lenet_int8.npz"
    Q.save_quantized(int8_model, path)
    with pytest.raises(ValueError, match=r"'module.classifier.5.weight' has shape \(10, 84\) in .* "
                                         r"but \(7, 84\) in the model"):
        Q.load_quantized(path, LeNet5(num_classes=7))
    with pytest.raises(ValueError, match="has no 'conv1.weight'"):
        Q.load_quantized(path, resnet_tiny())
    minicnn.save({"x": minicnn.zeros(2)}, tmp_path / "other.npz")
    with pytest.raises(ValueError, match="is not an int8 model file"):
        Q.load_quantized(tmp_path / "other.npz", LeNet5())


def test_a_float_entry_is_refused_and_nothing_changes(int8_lenet, tmp_path):
    _, int8_model = int8_lenet
    state = int8_model.state_dict()
    state["module.features.0.weight"] = minicnn.tensor(state["module.features.0.weight"].numpy().astype(numpy.float32))
    target = Q.quantized_architecture(LeNet5())
    before = target.state_dict()["module.features.0.weight"].numpy().copy()
    with pytest.raises(ValueError, match="'module.features.0.weight' is float32 in .* but int8"):
        Q.load_quantized_state(target, state)
    numpy.testing.assert_array_equal(target.state_dict()["module.features.0.weight"].numpy(), before)


def test_a_zero_or_nan_scale_is_refused(int8_lenet):
    _, int8_model = int8_lenet
    target = Q.quantized_architecture(LeNet5())
    for bad in (0.0, float("nan")):
        state = dict(int8_model.state_dict())
        state["module.features.3.weight_scale"] = minicnn.tensor(
            numpy.full(16, bad, numpy.float32))
        with pytest.raises(ValueError, match="'module.features.3.weight_scale' .* not positive and finite"):
            Q.load_quantized_state(target, state)
