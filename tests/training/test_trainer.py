"""The training loop, checkpoints and resume (minicnn/training/{trainer,checkpoint,plots}.py)."""
import json
import os
import re
import warnings

import numpy
import pytest

import minicnn
from minicnn import nn, optim
from minicnn.backend.random import get_rng_state
from minicnn.data import DataLoader, TensorDataset
from minicnn.serialization import load
from minicnn.training import Trainer, TrainingDiverged, fit, load_checkpoint


def blobs(n=96, seed=0, bad_rows=(), bad_value=None):
    """Three Gaussian clusters in 4-d: an easy problem a small MLP learns in a few epochs
    (with bad_value written into the points of bad_rows)."""
    rng = numpy.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = numpy.eye(3, 4) * 3
    points = centres[labels] + rng.normal(0, 0.7, (n, 4))
    points[list(bad_rows), 1] = bad_value
    return TensorDataset(points.astype(numpy.float32), labels.astype(numpy.int64))


def make_trainer(out_dir, seed=0, lr=0.05, **options):
    """Everything random in play: init, shuffling, dropout; plus Adam and a cosine schedule."""
    minicnn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    return Trainer(model, optimizer, DataLoader(blobs(), batch_size=16, shuffle=True),
                   DataLoader(blobs(48, seed=1), batch_size=32), scheduler,
                   out_dir=str(out_dir), quiet=True, class_names=["a", "b", "c"], **options)


def parameters(trainer):
    return [p.numpy().copy() for p in trainer.model.parameters()]


def test_learns_and_writes_run_files(tmp_path):
    trainer = make_trainer(tmp_path)
    history = trainer.fit(epochs=3)
    assert history["epoch"] == [1, 2, 3]
    assert history["val_accuracy"][-1] > 0.9
    assert history["train_loss"][-1] < history["train_loss"][0]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["history"]["val_loss"] == history["val_loss"]
    matrix = numpy.array(metrics["final"]["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == 48
    assert numpy.trace(matrix) / 48 == pytest.approx(metrics["final"]["val_accuracy"])
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = load(str(tmp_path / "model.npz"))
    for (name, tensor), saved_name in zip(trainer.model.state_dict().items(), saved):
        assert name == saved_name
        numpy.testing.assert_array_equal(saved[name].numpy(), tensor.numpy())


def test_soft_labels_from_mixup_train_and_count_as_their_most_probable_class():
    """A batch_transform that mixes labels: cross_entropy takes the probabilities, and the
    training accuracy compares predictions with the labels' argmax."""
    data = blobs()
    images = TensorDataset(data.arrays[0].reshape(-1, 1, 2, 2), data.arrays[1])
    minicnn.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    mixup = minicnn.data.transforms.MixUp(alpha=0.2, num_classes=3)
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.05),
                      DataLoader(images, batch_size=16, shuffle=True, batch_transform=mixup),
                      quiet=True)
    history = trainer.fit(epochs=4)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert 0.6 < history["train_accuracy"][-1] <= 1


def test_resume_continues_bit_for_bit(tmp_path):
    straight = make_trainer(tmp_path / "straight")
    straight.fit(epochs=3)

    interrupted = make_trainer(tmp_path / "interrupted")
    interrupted.fit(epochs=2)
    # A fresh process: another seed gives other initial weights; the checkpoint must override
    # the weights, the optimizer's moments, the schedule and the RNG (shuffling, dropout).
    resumed = make_trainer(tmp_path / "interrupted", seed=123)
    resumed.fit(epochs=3, resume=True)

    for ours, reference in zip(parameters(resumed), parameters(straight)):
        numpy.testing.assert_array_equal(ours, reference)
    for key in ("epoch", "train_loss", "val_loss", "lr"):
        assert resumed.history[key] == straight.history[key]


def test_fit_again_continues_after_the_epochs_done(tmp_path):
    trainer = make_trainer(tmp_path)
    trainer.fit(epochs=2)
    assert trainer.fit(epochs=3)["epoch"] == [1, 2, 3]
    assert trainer.fit(epochs=3)["epoch"] == [1, 2, 3]        # nothing left to do


def test_resume_without_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*checkpoint.npz"):
        make_trainer(tmp_path).fit(epochs=1, resume=True)


def test_early_stopping_on_val_loss(tmp_path):
    trainer = make_trainer(tmp_path, lr=0.0, patience=2)     # lr 0: the val loss never improves
    history = trainer.fit(epochs=10)
    assert history["epoch"] == [1, 2, 3]
    assert "not improved for 2 epochs" in json.loads((tmp_path / "metrics.json").read_text())["stopped"]


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    calls = []

    def loss_fn(logits, labels):
        calls.append(1)
        loss = minicnn.functional.cross_entropy(logits, labels)
        # 3 calls by the memory estimate before the first step, then 6 batches per epoch
        return loss * float("nan") if len(calls) > 9 else loss

    trainer = make_trainer(tmp_path, loss_fn=loss_fn)
    with pytest.raises(TrainingDiverged, match="loss became nan at epoch 2, batch .*"
                                               "checkpoint of epoch 1 .* is kept"):
        trainer.fit(epochs=3)
    epoch, history = load_checkpoint(str(tmp_path / "checkpoint.npz"), make_trainer(tmp_path).model)
    assert epoch == 1 and history["epoch"] == [1]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["history"]["epoch"] == [1] and "loss became nan" in metrics["stopped"]


def test_fit_function_without_output_dir():
    minicnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    history = fit(model, DataLoader(blobs(), batch_size=32), None,
                  optim.SGD(model.parameters(), lr=0.1), epochs=2, quiet=True)
    assert history["epoch"] == [1, 2] and history["val_loss"] == [None, None]


@pytest.mark.parametrize("value, what", [(float("nan"), "NaN"), (float("inf"), "infinite values")])
def test_nan_in_the_data_is_blamed_on_the_data_naming_the_samples(tmp_path, value, what):
    trainer = make_trainer(tmp_path)
    trainer.train_loader = DataLoader(blobs(bad_rows=[37, 5], bad_value=value),
                                      batch_size=16)
    with pytest.raises(TrainingDiverged) as error:
        trainer.fit(epochs=1)
    message = str(error.value)
    assert re.search(rf"The data is at fault, not the learning rate: the batch's inputs hold "
                     rf"{what} in 1 of its 16 samples \(positions 5 in the batch\); the "
                     r"training set holds NaN or infinity in the inputs of samples \[5, 37\]\.$",
                     message), message
    assert "learning rate (--lr) usually" not in message


def test_diverging_weights_and_overflowing_outputs_are_told_apart(tmp_path):
    trainer = make_trainer(tmp_path / "weights")
    trainer.model[0].weight.data[0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match=r"The weight 0.weight holds NaN or infinity: an "
                                               r"earlier step diverged .* smaller learning rate"):
        trainer.fit(epochs=1)

    for scale, reached in ((1e20, "inf"), (1e19, r"\d\.\d+e\+38")):   # overflow, or nearly
        trainer = make_trainer(tmp_path / "outputs")
        for layer in (trainer.model[0], trainer.model[3]):
            layer.weight.data *= scale
        with pytest.raises(TrainingDiverged, match=rf"the weights are finite but the model's "
                                                   rf"outputs reach {reached}: the activations "
                                                   rf"overflowed"):
            trainer.fit(epochs=1)


def test_a_batch_too_large_for_memory_is_warned_about_before_the_first_step(tmp_path,
                                                                            monkeypatch):
    from minicnn.training import memory
    trainer = make_trainer(tmp_path)
    rng_state = get_rng_state()
    needed, per_sample = memory.estimate_step_memory(trainer.model, trainer.step_loss, blobs(), 16)
    # What the backward pass keeps per sample: three 16-float layer outputs (linear, ReLU,
    # dropout), plus the input, the logits and dropout's mask.
    assert 3 * 16 * 4 <= per_sample <= 12 * 16 * 4
    assert needed >= 2 * per_sample * 16
    assert get_rng_state() == rng_state and trainer.model.training
    monkeypatch.setattr(memory, "available_memory", lambda: needed // 2)
    with pytest.warns(RuntimeWarning, match=r"fit: one training step on a batch of 16 needs "
                                            r"about \d+\.\d KiB .* but only \d+\.\d KiB of "
                                            r"memory is available: the system may kill the "):
        trainer.fit(epochs=1)
    trainer = make_trainer(tmp_path / "whole")
    trainer.train_loader = DataLoader(blobs(), batch_size=10 ** 6)   # one batch of all 96
    monkeypatch.setattr(memory, "available_memory", lambda: 1)
    with pytest.warns(RuntimeWarning, match=r"on a batch of 96 needs"):
        trainer.fit(epochs=1)
    monkeypatch.setattr(memory, "available_memory", lambda: 4 * needed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_trainer(tmp_path / "fits").fit(epochs=1)


def test_the_memory_estimate_leaves_the_model_as_it_was():
    from minicnn.training.memory import estimate_step_memory
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)).eval()
    buffers = [b.numpy().copy() for b in model.buffers()]
    estimate_step_memory(model, lambda batch: minicnn.functional.cross_entropy(model(batch[0]), batch[1]),
                         blobs(), 16)
    assert not model.training
    assert all(p.grad is None for p in model.parameters())
    for before, after in zip(buffers, model.buffers()):
        numpy.testing.assert_array_equal(after.numpy(), before)


def test_available_memory_is_a_positive_number_of_bytes_on_linux():
    from minicnn.training.memory import available_memory
    if not os.path.exists("/proc/meminfo"):
        pytest.skip("reads /proc/meminfo")
    assert 2 ** 20 < available_memory() < 2 ** 50
