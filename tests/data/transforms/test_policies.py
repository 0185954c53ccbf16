"""Named augmentation policies (minicnn/data/transforms/policies.py), reproducible runs."""
import numpy
import pytest

import minicnn
from minicnn.data import transforms as T


def test_policies_are_the_documented_steps():
    assert T.augmentation_policy("none").transforms == []
    basic = T.augmentation_policy("basic")
    assert [type(t) for t in basic.transforms] == [T.RandomCrop]
    assert basic.transforms[0].padding == 2
    strong = T.augmentation_policy("strong", hflip=True)
    assert [type(t) for t in strong.transforms] == [T.RandomCrop, T.RandomHorizontalFlip,
                                                    T.RandomAffine, T.ColorJitter,
                                                    T.RandomErasing]
    with pytest.raises(ValueError, match="augmentation_policy: unknown policy 'medium'; choose "
                                         "from none, basic, strong"):
        T.augmentation_policy("medium")


@pytest.mark.parametrize("name", T.POLICIES)
def test_a_policy_is_reproduced_by_manual_seed_and_draws_per_image(name):
    batch = numpy.stack([numpy.random.default_rng(0).random((3, 16, 16), numpy.float32)] * 8)

    def run(seed):
        minicnn.manual_seed(seed)
        return T.augmentation_policy(name, hflip=True)(batch)
    first = run(5)
    assert first.shape == batch.shape and first.dtype == numpy.float32
    numpy.testing.assert_array_equal(first, run(5))
    if name != "none":
        assert not numpy.array_equal(first, run(6))
        assert len({image.tobytes() for image in first}) == len(batch)   # one draw per image
    assert 0 <= first.min() and first.max() <= 1


def test_strong_policy_moves_boxes_and_masks_too():
    minicnn.manual_seed(0)
    image = numpy.random.default_rng(1).random((3, 12, 12))
    mask = numpy.zeros((12, 12), numpy.int64)
    mask[3:7, 4:9] = 2
    out, target = T.augmentation_policy("strong", hflip=True)(
        image, {"boxes": [[4, 3, 9, 7]], "masks": mask, "labels": [2]})
    assert out.shape == image.shape and set(numpy.unique(target["masks"])) <= {0, 2}
