"""extract_features (minicnn/transfer/features.py)."""
import numpy
import pytest

import minicnn
from minicnn import functional as F
from minicnn import models
from minicnn.transfer import extract_features


def test_the_pooled_features_are_what_the_head_reads():
    """A linear probe on extract_features(model, x, "pool") sees exactly the head's inputs:
    applying the head's weights to them gives the model's logits."""
    model = models.resnet_tiny(in_channels=1, num_classes=5)
    model(minicnn.randn(8, 1, 12, 12))
    images = minicnn.randn(7, 1, 12, 12)
    features = extract_features(model, images, "pool", batch_size=3)
    assert features.shape == (7, 16) and model.training, "the mode was not restored"
    model.eval()
    logits = features @ model.fc.weight.numpy().T + model.fc.bias.numpy()
    numpy.testing.assert_allclose(logits, model(images).numpy(), rtol=1e-5, atol=1e-6)


def test_an_inner_layer_is_read_flattened_and_the_hook_removed():
    model = models.resnet_tiny(in_channels=1, num_classes=5).eval()
    images = numpy.random.default_rng(0).random((5, 1, 12, 12), dtype=numpy.float32)
    features = extract_features(model, images, "layer2.0.bn1")
    x = minicnn.tensor(images)
    x = model.layer1(F.relu(model.bn1(model.conv1(x))))
    expected = model.layer2[0].bn1(model.layer2[0].conv1(x)).numpy()
    assert features.shape == (5, 8 * 6 * 6)
    numpy.testing.assert_allclose(features, expected.reshape(5, -1), rtol=1e-5, atol=1e-6)
    assert not any(module._forward_hooks for module in model.modules())


def test_bad_layer_names_and_image_shapes_are_refused():
    model = models.resnet_tiny(in_channels=1)
    with pytest.raises(ValueError, match="extract_features: CifarResNet has no layer 'layer9'"):
        extract_features(model, numpy.zeros((1, 1, 8, 8)), "layer9")
    with pytest.raises(ValueError, match=r"extract_features: images must be a batch \(N, C, H, "
                                         r"W\), got shape \(1, 8, 8\)"):
        extract_features(model, numpy.zeros((1, 8, 8)), "pool")
