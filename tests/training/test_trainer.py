"""The training loop, checkpoints and resume (minicnn/training/{trainer,checkpoint,plots}.py)."""
import json

import numpy
import pytest

import minicnn
from minicnn import nn, optim
from minicnn.data import DataLoader, TensorDataset
from minicnn.serialization import load
from minicnn.training import Trainer, TrainingDiverged, fit, load_checkpoint


def blobs(n=96, seed=0):
    """Three Gaussian clusters in 4-d: an easy problem a small MLP learns in a few epochs."""
    rng = numpy.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = numpy.eye(3, 4) * 3
    points = centres[labels] + rng.normal(0, 0.7, (n, 4))
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
        return loss * float("nan") if len(calls) > 8 else loss    # 6 batches per epoch

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
