"""The task seam of the training loop (minicnn/training/tasks.py): a task brings its loss,
metrics, per-epoch hook and pictures to the one loop; classification is the default."""
import json

import numpy
import pytest

import minicnn
from minicnn import nn, optim
from minicnn.data import DataLoader, TensorDataset
from minicnn.functional import mse_loss
from minicnn.training import Trainer
from minicnn.training.tasks import ClassificationTask, Task
from minicnn.training.trainer import HISTORY_KEYS, history_keys
from tests.training.test_trainer import make_trainer


class RegressionTask(Task):
    """A task unlike classification: targets are numbers, the metric a mean absolute error,
    and the batches hold a list (as a detection task's boxes would)."""
    metrics = {"mae": "mae"}

    def __init__(self):
        self.epochs_started, self.pictured = [], []

    def loss(self, model, batch):
        inputs, (targets,) = batch[0], batch[1]
        predictions = model(inputs)[:, 0]
        return mse_loss(predictions, targets), (predictions, targets)

    def tally(self):
        task_errors = []

        class Tally:
            def add(self, outputs, batch):
                task_errors.append(numpy.abs(outputs[0].numpy() - outputs[1].numpy()))

            def summary(self):
                return {"mae": float(numpy.concatenate(task_errors).mean())}
        return Tally()

    def on_epoch_start(self, epoch, model):
        self.epochs_started.append((epoch, model.training))

    def final(self, evaluation, class_names):
        return {"val_mae": evaluation["mae"]}

    def pictures(self, out_dir, model, loader):
        self.pictured.append(out_dir)


class ListTargets(TensorDataset):
    """(x, [y]) samples: the targets travel in a list through the loader and the loop."""

    def _wrap(self, parts):
        x, y = super()._wrap(parts)
        return x, [y]


def test_another_task_uses_the_same_loop(tmp_path):
    minicnn.manual_seed(0)
    points = numpy.random.default_rng(0).normal(size=(64, 3)).astype(numpy.float32)
    data = ListTargets(points, points @ numpy.array([1.0, -2.0, 0.5], numpy.float32))
    model = nn.Linear(3, 1)
    task = RegressionTask()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), DataLoader(data, batch_size=16),
                      DataLoader(data, batch_size=64), out_dir=str(tmp_path), quiet=True, task=task)
    history = trainer.fit(epochs=3)
    assert tuple(history) == ("epoch", "train_loss", "train_mae", "val_loss", "val_mae", "lr",
                              "seconds")
    assert history["val_mae"][-1] < 0.5 * history["train_mae"][0]
    assert task.epochs_started == [(1, True), (2, True), (3, True)]
    assert task.pictured == [str(tmp_path)]
    final = json.loads((tmp_path / "metrics.json").read_text())["final"]
    assert final == {"val_loss": history["val_loss"][-1], "val_mae": history["val_mae"][-1]}


def test_classification_keeps_its_history_keys_and_final_metrics(tmp_path):
    assert HISTORY_KEYS == ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                            "lr", "seconds")
    assert history_keys(ClassificationTask.metrics) == HISTORY_KEYS
    trainer = make_trainer(tmp_path)
    trainer.fit(epochs=1)
    assert tuple(trainer.history) == HISTORY_KEYS
    final = json.loads((tmp_path / "metrics.json").read_text())["final"]
    assert list(final) == ["val_loss", "val_accuracy", "confusion_matrix"]


def test_task_and_loss_fn_exclude_each_other():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="Trainer: give either a task or a loss_fn"):
        Trainer(model, None, None, loss_fn=mse_loss, task=RegressionTask())


def test_a_task_must_define_its_loss_and_tally():
    with pytest.raises(NotImplementedError, match="Task must define loss"):
        Task().loss(None, None)
