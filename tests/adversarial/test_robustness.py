"""corruption_accuracy, format_table, plot_robustness and the accuracy helpers."""
import numpy

import minicnn
from minicnn.adversarial import (accuracy, accuracy_under_attack, corruption_accuracy, fgsm,
                                 format_table, plot_robustness, predictions)
from minicnn.adversarial.corruptions import corrupt
from tests.explain.twins import digits, mnist_test_digits, trained_lenet


def test_the_table_holds_the_accuracy_on_each_corrupted_set():
    model = minicnn.models.LeNet5().eval()
    images = digits(12)
    labels = predictions(model, images)                 # clean accuracy 1 by construction
    result = corruption_accuracy(model, images, labels, corruptions=("blur", "occlusion"),
                                 seed=3, batch_size=5)
    assert result["clean"] == 1.0
    expected = accuracy(model, corrupt(images, "occlusion", 4, seed=3), labels)
    assert result["table"]["occlusion"][3] == expected
    assert result["mean"] == numpy.mean(result["table"]["blur"] + result["table"]["occlusion"])
    text = format_table(result)
    assert text.splitlines()[0].split() == ["corruption", "sev", "1", "sev", "2", "sev", "3",
                                            "sev", "4", "sev", "5", "mean"]
    assert "mean corruption accuracy" in text
    figure = plot_robustness({"a": result, "b": result}, columns=2)
    assert len(figure.axes) == 2


def test_accuracy_under_attack_attacks_batch_by_batch():
    model = trained_lenet()
    images, labels = mnist_test_digits(10)
    whole = accuracy_under_attack(model, images, labels, fgsm, eps=0.2)
    batched = accuracy_under_attack(model, images, labels, fgsm, batch_size=3, eps=0.2)
    adversarial = fgsm(model, images, labels, 0.2).numpy()
    assert whole == batched == accuracy(model, adversarial, labels) < 1.0
