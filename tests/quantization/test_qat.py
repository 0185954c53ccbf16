"""Quantization-aware training (qat.py, fake_quantize.py, prepare_qat): the fake-quantized
model trains, freezing stops the BatchNorm statistics, and convert gives what QAT simulated."""
import numpy
import pytest

import minicnn
import minicnn.functional as F
from minicnn import nn
from minicnn import quantization as Q
from minicnn.data import DataLoader, TensorDataset


def _model():
    minicnn.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, 3))


def _data(count=96):
    rng = numpy.random.default_rng(0)
    labels = rng.integers(0, 3, count)
    images = rng.uniform(0, 0.3, (count, 1, 8, 8)).astype(numpy.float32)
    for image, label in zip(images, labels):       # a bright row whose position is the class
        image[0, 2 * label + 1] += 0.7
    return images, labels


def test_qat_conv_bn_without_rounding_is_the_float_conv_bn():
    model = _model().train()
    prepared = Q.prepare_for_qat(model)
    conv = prepared.module[0]
    assert isinstance(conv, Q.QATConv2d) and conv.bn is not None and conv.relu
    Q.disable_fake_quant(prepared)
    x = minicnn.rand(8, 1, 8, 8)
    numpy.testing.assert_allclose(prepared(x).numpy(), model(x).numpy(), rtol=1e-4, atol=1e-5)


def test_freezing_stops_the_batch_norm_statistics_and_the_ranges():
    prepared = Q.prepare_for_qat(_model().train())
    bn = prepared.module[0].bn
    prepared(minicnn.rand(8, 1, 8, 8))
    Q.freeze_bn_stats(prepared)
    Q.disable_observer(prepared)
    mean, ranges = bn.running_mean.numpy().copy(), prepared.quant.activation_post_process.calculate_qparams()
    prepared(minicnn.rand(8, 1, 8, 8) * 3)
    numpy.testing.assert_array_equal(bn.running_mean.numpy(), mean)
    assert prepared.quant.activation_post_process.calculate_qparams() == ranges


def test_qat_trains_and_converts_to_what_it_simulated():
    images, labels = _data()
    loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True)
    prepared = Q.prepare_for_qat(_model())
    losses = Q.train_qat(prepared, loader, 4, lr=3e-3)
    assert losses[-1] < losses[0]
    assert prepared.module[0].weight_fake_quant.activation_post_process.observed
    int8_model = Q.convert(prepared)
    prepared.eval()
    x = minicnn.tensor(images)
    with minicnn.no_grad():
        simulated, got = prepared(x).numpy(), int8_model(x).numpy()
    # QAT's fake quantization and the integer kernels round the same grid points, so what is
    # left are the kernels' integer bias and fixed-point requantization: a step or so.
    step = float(int8_model.module[7].scale.data)
    assert numpy.abs(simulated - got).max() <= 3 * step
    assert (simulated.argmax(1) == got.argmax(1)).mean() >= 0.97


def test_four_bit_qat_grid():
    prepared = Q.prepare_for_qat(_model(), Q.get_qconfig(qat=True, bits=4))
    prepared(minicnn.rand(8, 1, 8, 8))
    fake = prepared.module[0].weight_fake_quant
    assert (fake.quant_min, fake.quant_max) == (-8, 7)
    scale, _ = fake.calculate_qparams()
    weight = prepared.module[0].conv.weight
    codes = F.fake_quantize_per_channel_affine(weight, scale, numpy.zeros(4, int), 0, -8, 7).numpy() / scale.reshape(-1, 1, 1, 1)
    assert len(numpy.unique(numpy.round(codes))) <= 16
    with pytest.raises(ValueError, match="get_qconfig: bits must be an integer from 2 to 8"):
        Q.get_qconfig(bits=9)
