"""Random geometric transforms (minicnn/data/transforms/geometric.py): the draws torchvision
documents, one per image, reproducible under manual_seed."""
import numpy
import pytest

import minicnn
from minicnn.data import transforms as T
from minicnn.data.transforms import functional as F


def test_random_resized_crop_windows_follow_torchvision():
    """scale bounds the area, ratio the aspect w / h, drawn log-uniformly; windows fit."""
    minicnn.manual_seed(0)
    height, width = 400, 500
    tops, lefts, h, w = T.RandomResizedCrop(8).window(4000, height, width)
    assert (tops >= 0).all() and (lefts >= 0).all()
    assert (tops + h <= height).all() and (lefts + w <= width).all()
    area = h * w / (height * width)
    assert area.min() >= 0.08 - 0.005 and area.max() <= 1.0
    log_ratio = numpy.log(w / h)
    assert log_ratio.min() >= numpy.log(3 / 4) - 0.02 and log_ratio.max() <= numpy.log(4 / 3) + 0.02
    # With areas that always fit (no try rejected), log-uniform in (3/4, 4/3) has mean 0;
    # a ratio uniform in (3/4, 4/3) would give 0.028.
    _, _, h, w = T.RandomResizedCrop(8, scale=(0.1, 0.5)).window(4000, 500, 500)
    assert abs(numpy.log(w / h).mean()) < 0.01
    assert abs((h * w / 500 ** 2).mean() - 0.3) < 0.01           # area ~ U(0.1, 0.5)


def test_random_resized_crop_falls_back_to_the_centre_crop():
    # No area fraction in (2, 3) fits: every try fails.
    wide = T.RandomResizedCrop(4, scale=(2.0, 3.0), ratio=(0.5, 1.5))
    tops, lefts, h, w = wide.window(3, 10, 40)
    # 40 / 10 = 4 is wider than the widest ratio 1.5: h = 10, w = round(10 * 1.5) = 15, centred.
    assert (h == 10).all() and (w == 15).all() and (tops == 0).all() and (lefts == 12).all()
    tops, lefts, h, w = wide.window(2, 9, 9)          # ratio 1 is allowed: the whole image
    assert (h == 9).all() and (w == 9).all() and (tops == 0).all() and (lefts == 0).all()


def test_random_resized_crop_output_is_the_resized_window(monkeypatch):
    calls = []
    monkeypatch.setattr(F, "resized_crop", lambda *args, **kwargs: calls.append(args) or args[0])
    minicnn.manual_seed(3)
    T.RandomResizedCrop((5, 6))(numpy.zeros((4, 1, 20, 30)))
    batch, tops, lefts, heights, widths, size, interpolation = calls[0]
    assert size == (5, 6) and interpolation == "bilinear" and len(tops) == 4
    assert len(set(zip(tops, lefts, heights, widths))) == 4      # one window per image


def test_random_affine_draws_torchvision_ranges(monkeypatch):
    calls = []
    monkeypatch.setattr(F, "affine", lambda *args, **kwargs: calls.append(args) or args[0])
    minicnn.manual_seed(0)
    T.RandomAffine(degrees=(-10, 30), translate=(0.1, 0.25), scale=(0.8, 1.2),
                   shear=(-5, 5, 10, 20))(numpy.zeros((500, 1, 20, 40)))
    _, angles, translations, scales, shears, interpolation, fill = calls[0]
    assert -10 <= angles.min() and angles.max() <= 30 and angles.std() > 5
    # dx, dy = round(U(-0.1 * 40, 0.1 * 40)), round(U(-0.25 * 20, 0.25 * 20)): whole pixels
    assert set(numpy.unique(translations[:, 0])) == {-4, -3, -2, -1, 0, 1, 2, 3, 4}
    assert set(numpy.unique(translations[:, 1])) == set(range(-5, 6))
    assert 0.8 <= scales.min() and scales.max() <= 1.2
    assert -5 <= shears[:, 0].min() and shears[:, 0].max() <= 5
    assert 10 <= shears[:, 1].min() and shears[:, 1].max() <= 20
    T.RandomAffine(degrees=0, shear=7)(numpy.zeros((100, 1, 4, 4)))     # a number: x only
    shears = calls[1][4]
    assert abs(shears[:, 0]).max() <= 7 and abs(shears[:, 0]).max() > 5 and (shears[:, 1] == 0).all()


def test_random_rotation_turns_each_image_by_its_own_angle():
    minicnn.manual_seed(0)
    image = numpy.random.default_rng(0).random((1, 9, 9))
    batch = numpy.stack([image] * 5)
    out = T.RandomRotation(40)(batch)
    assert len({o.tobytes() for o in out}) == 5
    minicnn.manual_seed(0)
    angles = minicnn.backend.random.generator().uniform(-40, 40, size=5)
    for n in range(5):
        numpy.testing.assert_allclose(out[n], F.rotate(image, angles[n]), atol=1e-12)


def test_flips_apply_with_probability_p():
    minicnn.manual_seed(0)
    batch = numpy.random.default_rng(1).random((2000, 1, 2, 3))
    for transform, mirror in ((T.RandomHorizontalFlip(0.3), batch[..., ::-1]),
                              (T.RandomVerticalFlip(0.3), batch[..., ::-1, :])):
        out = transform(batch)
        flipped = (out == mirror).all(axis=(1, 2, 3))
        assert ((out == batch).all(axis=(1, 2, 3)) | flipped).all()
        assert 0.25 < flipped.mean() < 0.35


def test_random_crop_pads_then_cuts_windows_per_image():
    image = numpy.arange(16, dtype=numpy.float32).reshape(1, 4, 4)
    out = T.RandomCrop(4, padding=2)(numpy.stack([image] * 20))
    padded = numpy.pad(image, ((0, 0), (2, 2), (2, 2)))
    for crop in out:
        assert any(numpy.array_equal(crop, padded[:, t:t + 4, l:l + 4])
                   for t in range(5) for l in range(5))
    assert len({crop.tobytes() for crop in out}) > 1
    assert T.RandomCrop(3)(image).shape == (1, 3, 3)
    assert T.RandomCrop(6, pad_if_needed=True)(image).shape == (1, 6, 6)
    with pytest.raises(ValueError, match="larger than the padded image"):
        T.RandomCrop(6, padding=0)(image)
    same_size = T.RandomCrop(padding=1)(numpy.ones((6, 1, 5, 5), numpy.float32))
    assert same_size.shape == (6, 1, 5, 5) and same_size.min() == 0 and same_size.max() == 1


def test_elastic_transform_fields_follow_torchvision_scaling():
    minicnn.manual_seed(0)
    elastic = T.ElasticTransform(alpha=40.0, sigma=3.0)
    field = elastic.displacement(50, 32, 32)
    # Smoothed U(-1, 1) noise scaled by alpha / 2 pixels for a square image: a smooth field
    # of a pixel or so, much less than the unsmoothed alpha / 2 * U(-1, 1).
    assert field.shape == (50, 2, 32, 32) and 0.3 < field.std() < 3
    assert numpy.abs(numpy.diff(field, axis=3)).mean() < 0.1 * field.std() * 4
    assert T.ElasticTransform(alpha=0.0)(numpy.ones((2, 1, 5, 5))).min() == 1


def test_deterministic_classes_match_their_functional_forms():
    image = numpy.random.default_rng(2).random((3, 7, 9))
    numpy.testing.assert_array_equal(T.CenterCrop(5)(image), F.center_crop(image, 5))
    numpy.testing.assert_array_equal(T.Resize((4, 4))(image), F.resize(image, (4, 4)))
    numpy.testing.assert_array_equal(T.Pad(2, padding_mode="edge")(image),
                                     F.pad(image, 2, padding_mode="edge"))


def test_constructors_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"RandomRotation: 'degrees' as a single number must be "
                                         r">= 0, got -5"):
        T.RandomRotation(-5)
    with pytest.raises(ValueError, match=r"RandomAffine: 'translate' must be a pair of fractions"):
        T.RandomAffine(0, translate=(0.5, 2))
    with pytest.raises(ValueError, match=r"RandomResizedCrop: 'ratio' must be a number or a pair "
                                         r"\(min, max\) with min <= max"):
        T.RandomResizedCrop(8, ratio=(2.0, 1.0))
    with pytest.raises(ValueError, match=r"CenterCrop: 'size' must be a positive int or "
                                         r"\(height, width\), got 0"):
        T.CenterCrop(0)
