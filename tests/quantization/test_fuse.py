"""Fusion (quantization/fuse.py): folded BatchNorms compute what they replace."""
import numpy
import pytest

import minicnn
from minicnn import nn
from minicnn.models import LeNet5, resnet_tiny
from minicnn.quantization import (ConvBnReLU2d, ConvReLU2d, LinearReLU, fuse_modules,
                                  fuse_modules_qat, fusion_groups, quantizable)


def _with_statistics(model, shape):
    """The model after a few training batches, so that its BatchNorms hold real statistics."""
    model.train()
    with minicnn.no_grad():
        for _ in range(3):
            model(minicnn.randn(*shape))
    return model.eval()


def test_folded_conv_bn_relu_equals_the_three_layers():
    model = _with_statistics(nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5), nn.ReLU()),
                             (4, 3, 8, 8))
    x = minicnn.randn(2, 3, 8, 8)
    fused = fuse_modules(model, ["0", "1", "2"])
    assert isinstance(fused[0], ConvReLU2d) and isinstance(fused[1], nn.Identity)
    with minicnn.no_grad():
        numpy.testing.assert_allclose(fused(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)
    assert isinstance(model[1], nn.BatchNorm2d)            # the original is left as it was


def test_fusion_groups_of_the_zoo_models_keep_outputs():
    lenet = LeNet5().eval()
    assert fusion_groups(lenet) == [["features.0", "features.1"], ["features.3", "features.4"],
                                    ["classifier.1", "classifier.2"], ["classifier.3", "classifier.4"]]
    fused = fuse_modules(lenet, fusion_groups(lenet))
    assert [type(m).__name__ for m in fused.classifier] == ["Flatten", "LinearReLU", "Identity",
                                                             "LinearReLU", "Identity", "Linear"]
    resnet = quantizable(_with_statistics(resnet_tiny(num_classes=5), (4, 3, 32, 32)))
    fused = fuse_modules(resnet, fusion_groups(resnet))
    x = minicnn.randn(2, 3, 32, 32)
    with minicnn.no_grad():
        numpy.testing.assert_allclose(fused(x).numpy(), resnet(x).numpy(), rtol=1e-4, atol=1e-5)


def test_qat_fusion_keeps_the_batch_norm():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8, 3), nn.ReLU())
    fused = fuse_modules_qat(model, fusion_groups(model))
    assert isinstance(fused[0], ConvBnReLU2d) and isinstance(fused[0][1], nn.BatchNorm2d)
    assert isinstance(fused[4], LinearReLU)


def test_bad_groups_are_named_and_change_nothing():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.BatchNorm2d(3)).eval()
    with pytest.raises(ValueError, match=r"cannot fuse \(ReLU, Conv2d\) at \['1', '0'\]"):
        fuse_modules(model, [["0", "1"], ["1", "0"]], inplace=True)
    assert isinstance(model[0], nn.Conv2d)                  # the first, valid group was not applied
    with pytest.raises(ValueError, match=r"'2' \(BatchNorm2d\(3\)\) cannot be folded into '0'"):
        fuse_modules(model, ["0", "2"])
    with pytest.raises(ValueError, match="has no child 'x'"):
        fuse_modules(model, ["0", "x"])
    with pytest.raises(ValueError, match="must be in eval mode"):
        fuse_modules(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), ["0", "1"])
