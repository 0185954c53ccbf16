"""AdversarialTask in the one training loop: the step's loss is the attack's images' loss,
the attack never touches the weights or their gradients, evaluation reports clean and
robust accuracy, and a short adversarial training makes LeNet-5 more robust than plain
training does."""
import numpy
import pytest

import minicnn
from minicnn import optim
from minicnn.adversarial import AdversarialTask, accuracy, accuracy_under_attack, fgsm, pgd
from minicnn.data import DataLoader, Subset, TensorDataset, get_dataset
from minicnn.training import Trainer
from tests.explain.twins import digits


def test_the_loss_is_the_cross_entropy_of_the_attacks_images():
    model = minicnn.models.LeNet5()                       # in training mode, as in the loop
    images, labels = minicnn.tensor(digits(4)), minicnn.tensor([1, 2, 3, 4])
    task = AdversarialTask("pgd", eps=0.1, steps=3)
    with minicnn.no_grad():                               # evaluation: no random start
        loss, (clean, robust) = task.loss(model, (images, labels))
    assert model.training
    expected = pgd(model.eval(), images, labels, 0.1, steps=3, random_start=False)
    model.train()
    numpy.testing.assert_allclose(robust.numpy(), model(expected).numpy(), rtol=1e-6)
    numpy.testing.assert_allclose(clean.numpy(), model(images).numpy(), rtol=1e-6)
    assert loss.item() == pytest.approx(
        minicnn.functional.cross_entropy(robust, labels).item())


def test_a_training_step_differentiates_only_the_step_and_keeps_the_model_state():
    model = minicnn.models.LeNet5()
    images, labels = minicnn.tensor(digits(4)), minicnn.tensor([1, 2, 3, 4])
    loss, _ = AdversarialTask("fgsm", eps=0.2).loss(model, (images, labels))
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_trainer_records_clean_and_robust_accuracy():
    minicnn.manual_seed(0)
    data = TensorDataset(minicnn.tensor(digits(32)), minicnn.tensor(numpy.arange(32) % 10))
    model = minicnn.models.LeNet5()
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3),
                      DataLoader(data, batch_size=16), DataLoader(data, batch_size=32),
                      task=AdversarialTask("pgd", eps=0.1, steps=2), quiet=True)
    history = trainer.fit(1)
    assert set(history) >= {"train_accuracy", "train_robust_accuracy", "val_accuracy",
                            "val_robust_accuracy"}
    images, labels = data.arrays
    assert history["val_accuracy"] == [accuracy(model, images, labels)]
    assert history["val_robust_accuracy"] == [accuracy_under_attack(
        model, images, labels, pgd, eps=0.1, steps=2, random_start=False)]


def test_the_training_radius_grows_over_the_warm_up_and_evaluation_uses_the_full_one():
    model = minicnn.models.LeNet5()
    images, labels = minicnn.tensor(digits(4)), minicnn.tensor([1, 2, 3, 4])
    task = AdversarialTask("fgsm", eps=0.3, warmup_epochs=3)
    for epoch, eps in ((1, 0.1), (2, 0.2), (3, 0.3), (7, 0.3)):
        task.on_epoch_start(epoch, model)
        _, (_, robust) = task.loss(model, (images, labels))
        expected = fgsm(model.eval(), images, labels, eps)
        model.train()
        numpy.testing.assert_allclose(robust.numpy(), model(expected).numpy(), rtol=1e-5)
    task.on_epoch_start(1, model)
    with minicnn.no_grad():
        _, (_, robust) = task.loss(model, (images, labels))
    numpy.testing.assert_allclose(robust.numpy(), model(fgsm(model.eval(), images, labels,
                                                               0.3)).numpy(), rtol=1e-5)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="AdversarialTask: attack must be one of pgd, fgsm"):
        AdversarialTask("cw")
    with pytest.raises(ValueError, match="AdversarialTask: eps must be >= 0, got -0.1"):
        AdversarialTask(eps=-0.1)
    with pytest.raises(ValueError, match="AdversarialTask: steps must be >= 1, got 0"):
        AdversarialTask(steps=0)
    with pytest.raises(ValueError, match="AdversarialTask: warmup_epochs must be >= 0, got -1"):
        AdversarialTask(warmup_epochs=-1)


@pytest.mark.slow
def test_adversarial_training_raises_pgd_accuracy_far_above_plain_trainings():
    train = get_dataset("mnist5k", train=True)
    test = Subset(get_dataset("mnist5k", train=False), range(300))
    images, labels = (t.numpy() for t in next(iter(DataLoader(test, batch_size=300))))
    robust = {}
    for name, task in (("plain", None), ("adversarial", AdversarialTask("pgd", 0.3, 5,
                                                                        warmup_epochs=4))):
        minicnn.manual_seed(0)
        model = minicnn.models.LeNet5()
        optimizer = optim.Adam(model.parameters(), lr=2e-3)
        Trainer(model, optimizer, DataLoader(train, batch_size=64, shuffle=True),
                task=task, quiet=True).fit(12)
        minicnn.manual_seed(0)
        robust[name] = accuracy_under_attack(model, images, labels, pgd, eps=0.3, alpha=0.01,
                                             steps=40)
        assert accuracy(model, images, labels) > 0.8
    assert robust["plain"] < 0.05 and robust["adversarial"] > 0.3
