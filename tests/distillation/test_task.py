"""DistillationTask (distillation/task.py): the loop's loss is distillation_loss, the teacher
runs once per batch in eval mode and records no graph."""
import numpy
import pytest

import minicnn
from minicnn import nn, optim
from minicnn.data import DataLoader, TensorDataset
from minicnn.distillation import DistillationTask, distillation_loss
from minicnn.training import Trainer


def _models():
    minicnn.manual_seed(0)
    teacher = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.Dropout(0.5), nn.ReLU(),
                            nn.Linear(12, 3))
    student = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    return teacher, student


def test_the_loss_is_distillation_loss_and_the_teacher_records_no_graph():
    teacher, student = _models()
    images, labels = minicnn.randn(8, 1, 4, 4), minicnn.randint(0, 3, (8,))
    task = DistillationTask(teacher, temperature=2.5, alpha=0.3)
    loss, logits = task.loss(student, (images, labels))
    with minicnn.no_grad():
        expected = distillation_loss(student(images), teacher.eval()(images), labels, 2.5, 0.3)
    assert loss.item() == expected.item()
    numpy.testing.assert_array_equal(logits.numpy(), student(images).numpy())
    loss.backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.grad is not None for p in student.parameters())


def test_in_the_loop_the_teacher_runs_once_per_batch_in_eval_mode():
    teacher, student = _models()
    calls, epoch_starts = [], []
    teacher.register_forward_hook(lambda module, inputs, output: calls.append(module.training))

    class Counted(DistillationTask):
        def on_epoch_start(self, epoch, model):
            epoch_starts.append(len(calls))

    data = TensorDataset(minicnn.randn(20, 1, 4, 4), minicnn.randint(0, 3, (20,)))
    loader = DataLoader(data, batch_size=8)
    trainer = Trainer(student, optim.SGD(student.parameters(), lr=0.1), loader, loader,
                      task=Counted(teacher), quiet=True)
    history = trainer.fit(2)
    # 3 training and 3 validation batches an epoch (the calls before the first epoch are the
    # Trainer's memory probe, which runs the task's loss on small batches)
    assert numpy.diff(epoch_starts + [len(calls)]).tolist() == [6, 6]
    assert not any(calls)
    assert set(history) >= {"train_accuracy", "val_accuracy"}


@pytest.mark.parametrize("temperature, alpha, message", [
    (0, 0.5, "temperature must be a positive number, got 0"),
    (float("inf"), 0.5, "temperature must be a positive number, got inf"),
    (2.0, 1.5, r"alpha must lie in \[0, 1\], got 1.5")])
def test_bad_temperature_or_alpha_is_refused_at_once(temperature, alpha, message):
    teacher, _ = _models()
    with pytest.raises(ValueError, match=f"DistillationTask: {message}"):
        DistillationTask(teacher, temperature, alpha)
