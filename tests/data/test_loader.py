"""DataLoader, samplers, default_collate and random_split (minicnn/data/{loader,sampler,dataset}.py)."""
import numpy
import pytest

import minicnn
from minicnn.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler,
                          SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                          WeightedRandomSampler, default_collate, random_split)


class Squares(Dataset):
    """A dataset without `gather`: the loader must collate sample by sample."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"x": numpy.full(2, i, numpy.float32), "y": i * i}


def make_dataset(n=10):
    return TensorDataset(numpy.arange(n * 2, dtype=numpy.float32).reshape(n, 2),
                         numpy.arange(n, dtype=numpy.int64))


def test_sequential_batches_and_last_short_batch():
    batches = list(DataLoader(make_dataset(), batch_size=4))
    assert [len(y) for x, y in batches] == [4, 4, 2]
    assert batches[2][1].tolist() == [8, 9]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == numpy.float32
    assert len(DataLoader(make_dataset(), batch_size=4)) == 3
    assert len(DataLoader(make_dataset(), batch_size=4, drop_last=True)) == 2
    assert [len(y) for _, y in DataLoader(make_dataset(), batch_size=4, drop_last=True)] == [4, 4]


@pytest.mark.parametrize("n, batch_size", [(12, 4), (12, 12), (12, 1), (13, 4), (3, 4)])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_len_and_batch_sizes_for_every_remainder(n, batch_size, drop_last, shuffle):
    # n a multiple of batch_size is where an off-by-one gives an empty last batch.
    loader = DataLoader(make_dataset(n), batch_size=batch_size, drop_last=drop_last,
                        shuffle=shuffle, generator=0)
    full, rest = divmod(n, batch_size)
    expected = [batch_size] * full + ([rest] if rest and not drop_last else [])
    sizes = [len(y) for _, y in loader]
    assert sizes == expected and len(loader) == len(expected)
    assert all(x.shape == (size, 2) for (x, _), size in zip(loader, expected))
    seen = numpy.concatenate([y.numpy() for _, y in loader]) if expected else numpy.array([])
    assert len(set(seen.tolist())) == sum(expected)        # no sample twice in an epoch


def test_shuffle_is_a_permutation_reproducible_by_manual_seed():
    def epoch_orders():
        minicnn.manual_seed(7)
        loader = DataLoader(make_dataset(), batch_size=3, shuffle=True)
        return [numpy.concatenate([y.numpy() for _, y in loader]) for _ in range(2)]
    first, second = epoch_orders(), epoch_orders()
    assert sorted(first[0].tolist()) == list(range(10))
    assert not numpy.array_equal(first[0], first[1])       # a new order every epoch
    assert all(numpy.array_equal(a, b) for a, b in zip(first, second))


def test_explicit_generator_overrides_the_global_one():
    orders = []
    for seed in (0, 0):
        loader = DataLoader(make_dataset(), batch_size=10, shuffle=True,
                            generator=numpy.random.default_rng(seed))
        minicnn.manual_seed(len(orders))    # different global seeds must not matter
        orders.append(next(iter(loader))[1].tolist())
    assert orders[0] == orders[1]


def test_collate_path_matches_dicts_and_numbers():
    batch = next(iter(DataLoader(Squares(), batch_size=3)))
    assert batch["x"].shape == (3, 2) and batch["x"].numpy()[:, 0].tolist() == [0, 1, 2]
    assert batch["y"].tolist() == [0, 1, 4] and batch["y"].dtype == numpy.int64
    assert default_collate([1.5, 2.5]).dtype == numpy.float32


def test_fast_path_equals_collate_path():
    data = make_dataset()
    fast = list(DataLoader(data, batch_size=4))
    slow = list(DataLoader(data, batch_size=4, collate_fn=default_collate))
    for (fx, fy), (sx, sy) in zip(fast, slow):
        numpy.testing.assert_array_equal(fx.numpy(), sx.numpy())
        numpy.testing.assert_array_equal(fy.numpy(), sy.numpy())


def test_subset_keeps_fast_path_and_order():
    loader = DataLoader(Subset(make_dataset(), [5, 1, 3]), batch_size=2)
    assert loader._gather is not None
    assert [y.tolist() for _, y in loader] == [[5, 1], [3]]


def test_random_split_sizes_fractions_and_disjointness():
    parts = random_split(make_dataset(), [0.5, 0.3, 0.2], generator=numpy.random.default_rng(0))
    assert [len(p) for p in parts] == [5, 3, 2]
    seen = numpy.concatenate([p.indices for p in parts])
    assert sorted(seen.tolist()) == list(range(10))
    assert [len(p) for p in random_split(make_dataset(), [7, 3])] == [7, 3]
    with pytest.raises(ValueError, match="adding up to the dataset's length 10"):
        random_split(make_dataset(), [4, 4])


def test_batch_transform_sees_each_finished_batch():
    seen = []

    def double_and_count(x, y):
        seen.append(len(y))
        return x * 2, y
    batches = list(DataLoader(make_dataset(), batch_size=4, batch_transform=double_and_count))
    assert seen == [4, 4, 2]
    numpy.testing.assert_array_equal(batches[0][0].numpy(), 2 * make_dataset().arrays[0][:4])
    # A batch that is not a tuple (here a dict from default_collate) is passed whole.
    loader = DataLoader(Squares(), batch_size=5, batch_transform=lambda batch: sorted(batch))
    assert list(loader) == [["x", "y"], ["x", "y"]]


def test_samplers():
    data = make_dataset()
    assert list(SequentialSampler(data)) == list(range(10))
    assert sorted(RandomSampler(data, generator=1)) == list(range(10))
    drawn = list(RandomSampler(data, replacement=True, num_samples=50, generator=1))
    assert len(drawn) == 50 and set(drawn) <= set(range(10))
    assert sorted(SubsetRandomSampler([3, 4, 8], generator=0)) == [3, 4, 8]
    assert list(BatchSampler(range(5), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]


def test_weighted_sampler_follows_weights():
    counts = numpy.bincount(list(WeightedRandomSampler([1, 0, 3], 4000, generator=0)), minlength=3)
    assert counts[1] == 0
    assert abs(counts[2] / counts[0] - 3) < 0.4
    assert sorted(WeightedRandomSampler([1, 1, 1], 3, replacement=False, generator=0)) == [0, 1, 2]
    with pytest.raises(ValueError, match="without replacement from 1 non-zero"):
        WeightedRandomSampler([0, 1], 2, replacement=False)


def test_concat_dataset():
    both = make_dataset(3) + make_dataset(2)
    assert isinstance(both, ConcatDataset) and len(both) == 5
    assert both[3][1].item() == 0 and both[-1][1].item() == 1
    with pytest.raises(IndexError, match="out of range for 5"):
        both[5]


def test_sample_shapes():
    x, y = make_dataset()[3]
    assert x.shape == (2,) and y.shape == () and y.item() == 3


def test_errors():
    with pytest.raises(ValueError, match="the dataset is empty"):
        DataLoader(make_dataset(0))
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            DataLoader(make_dataset(), batch_size=bad)
    with pytest.raises(ValueError, match="either shuffle=True or a sampler"):
        DataLoader(make_dataset(), shuffle=True, sampler=SequentialSampler(make_dataset()))
    with pytest.raises(ValueError, match="same first dimension, got lengths \\[3, 2\\]"):
        TensorDataset(numpy.zeros(3), numpy.zeros(2))
    with pytest.raises(TypeError, match="cannot batch samples of type object"):
        default_collate([object()])
