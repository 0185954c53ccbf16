"""Segmentation as a training task (minicnn/segmentation/task.py): the pixel-wise losses
against PyTorch, the crop for a valid U-Net, the metrics, bad input, a short training run."""
import json

import numpy
import pytest

import minicnn
import minicnn.functional as F
from minicnn import optim
from minicnn.data import DataLoader, ShapesDataset, TensorDataset
from minicnn.models import UNet, get_model
from minicnn.segmentation import SegmentationTask, predict_masks
from minicnn.training import Trainer, dice_score, iou_score
from tests.helpers import assert_close, leaf, to_torch


def problem(seed=0, shape=(2, 3, 6, 5)):
    generator = numpy.random.default_rng(seed)
    logits = generator.standard_normal(shape)
    masks = generator.integers(0, shape[1], (shape[0],) + shape[2:])
    weights = generator.uniform(0.5, 10, (shape[0],) + shape[2:])
    return logits, masks, weights


class Fixed(minicnn.nn.Module):
    """A 'model' that returns the given logits, whatever the images: tests the loss alone."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, images):
        return self.logits


def test_pixel_cross_entropy_has_weight_ignore_index_and_a_weight_map(torch):
    """cross_entropy on (N, C, H, W) with (N, H, W) targets, PyTorch's weight and ignore_index,
    and reduction='none' giving (N, H, W) losses that a per-pixel weight map multiplies."""
    logits, masks, weights = problem()
    masks[0, 0, :3] = -100
    class_weight = numpy.array([0.5, 1.0, 2.0])
    x = leaf(logits)
    x_torch = to_torch(torch, x)
    for options in ({}, {"weight": class_weight}, {"ignore_index": -100}):
        torch_options = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
        ours = F.cross_entropy(x, minicnn.tensor(masks), **options)
        theirs = torch.nn.functional.cross_entropy(x_torch, torch.tensor(masks), **torch_options)
        assert_close(ours, theirs)
    per_pixel = F.cross_entropy(x, minicnn.tensor(masks), reduction="none")
    assert per_pixel.shape == masks.shape
    loss = (per_pixel * minicnn.tensor(weights)).sum() / weights.sum()
    per_pixel_torch = torch.nn.functional.cross_entropy(x_torch, torch.tensor(masks), reduction="none")
    loss_torch = (per_pixel_torch * torch.tensor(weights)).sum() / weights.sum()
    loss.backward()
    loss_torch.backward()
    assert_close(loss, loss_torch)
    assert_close(x.grad, x_torch.grad)


def test_one_foreground_class_with_logits_and_a_weight_map(torch):
    """binary_cross_entropy_with_logits on (N, 1, H, W) logits and 0/1 masks, a per-pixel
    weight map as its weight: PyTorch's values and gradients."""
    logits, masks, weights = problem(2, shape=(2, 1, 6, 5))
    masks = (masks[:, None] > 0).astype(numpy.float64)
    x, t, w = leaf(logits), leaf(masks, requires_grad=False), leaf(weights[:, None], requires_grad=False)
    loss = F.binary_cross_entropy_with_logits(x, t, w, reduction="sum") / w.sum()
    x_torch = to_torch(torch, x)
    loss_torch = torch.nn.functional.binary_cross_entropy_with_logits(
        x_torch, to_torch(torch, t), to_torch(torch, w), reduction="sum") / weights.sum()
    loss.backward()
    loss_torch.backward()
    assert_close(loss, loss_torch)
    assert_close(x.grad, x_torch.grad)


def test_task_loss_is_weighted_cross_entropy_plus_pooled_dice(torch):
    logits, masks, weights = problem(1)
    x = leaf(logits)
    images = minicnn.zeros(2, 1, 6, 5)
    task = SegmentationTask(3, dice_weight=0.7)
    loss, outputs = task.loss(Fixed(x), [images, minicnn.tensor(masks), minicnn.tensor(weights)])
    assert outputs is x
    x_torch = to_torch(torch, x)
    t = torch.tensor(masks)
    w = torch.tensor(weights)
    cross_entropy = (torch.nn.functional.cross_entropy(x_torch, t, reduction="none") * w).sum() / w.sum()
    # Dice over the batch as one image: probabilities and one-hot targets summed over N, H, W.
    p = torch.softmax(x_torch, dim=1)
    one_hot = torch.nn.functional.one_hot(t, 3).permute(0, 3, 1, 2).double()
    dice = (2 * (p * one_hot).sum((0, 2, 3)) + 1) / (p.sum((0, 2, 3)) + one_hot.sum((0, 2, 3)) + 1)
    expected = cross_entropy + 0.7 * (1 - dice).mean()
    loss.backward()
    expected.backward()
    assert_close(loss, expected)
    assert_close(x.grad, x_torch.grad)
    unweighted, _ = SegmentationTask(3, dice_weight=0).loss(Fixed(x), [images, minicnn.tensor(masks)])
    assert unweighted.item() == pytest.approx(F.cross_entropy(x, minicnn.tensor(masks)).item())


def test_a_valid_unet_is_scored_on_the_centre_of_the_masks():
    model = UNet(1, 2, base_channels=2, depth=2)            # 24 -> 8: 8 pixels cropped per side
    images = minicnn.randn(2, 1, 24, 24)
    masks = numpy.zeros((2, 24, 24), numpy.int64)
    masks[:, 8:16, 8:16] = numpy.random.default_rng(0).integers(0, 2, (2, 8, 8))
    task = SegmentationTask(2)
    loss, logits = task.loss(model, [images, minicnn.tensor(masks)])
    assert logits.shape == (2, 2, 8, 8)
    tally = task.tally()
    tally.add(logits, [images, minicnn.tensor(masks)])
    predicted = logits.numpy().argmax(axis=1)
    summary = tally.summary()
    numpy.testing.assert_allclose(summary["dice_per_class"], dice_score(predicted, masks[:, 8:16, 8:16], 2))
    assert summary["dice"] == pytest.approx(summary["dice_per_class"][1])       # background left out
    assert summary["iou"] == pytest.approx(iou_score(predicted, masks[:, 8:16, 8:16], 2)[1])
    assert predict_masks(model, images.numpy()).shape == (2, 8, 8)


def test_bad_input_is_explained():
    task = SegmentationTask(3)
    model = get_model("unet_small", in_channels=1, num_classes=3)
    images = minicnn.zeros(2, 1, 16, 16)
    with pytest.raises(ValueError, match=r"SegmentationTask: masks of shape \(2, 16, 8\) do not "
                                         r"fit images of shape \(2, 1, 16, 16\): expected one "
                                         r"value per pixel, shape \(2, 16, 16\)"):
        task.loss(model, [images, minicnn.zeros(2, 16, 8, dtype="int64")])
    with pytest.raises(ValueError, match=r"weights of shape \(2, 8, 8\) do not fit"):
        task.loss(model, [images, minicnn.zeros(2, 16, 16, dtype="int64"), minicnn.zeros(2, 8, 8)])
    masks = numpy.zeros((2, 16, 16), numpy.int64)
    masks[1, 3, 4] = 7
    with pytest.raises(ValueError, match=r"cross_entropy: target 7 is out of range for 3 classes "
                                         r"\(target index \(1, 3, 4\) in the batch\)"):
        task.loss(model, [images, minicnn.tensor(masks)])
    with pytest.raises(ValueError, match=r"the model gives outputs of shape \(2, 3\); a "
                                         r"segmentation model gives a score per class and pixel"):
        task.loss(minicnn.nn.Sequential(minicnn.nn.Flatten(), minicnn.nn.Linear(256, 3)),
                  [images, minicnn.zeros(2, 16, 16, dtype="int64")])


def test_short_training_run_learns_and_draws(tmp_path):
    minicnn.manual_seed(0)
    data = ShapesDataset(96, image_size=16, seed=0, task="segment")
    foreground = TensorDataset(data.arrays[0], (data.arrays[1] > 0).astype(numpy.int64))
    model = UNet(3, 2, base_channels=4, depth=2, padding="same", batch_norm=True)
    task = SegmentationTask(2, ["background", "shape"])
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.01),
                      DataLoader(foreground, batch_size=16, shuffle=True),
                      DataLoader(foreground, batch_size=48), out_dir=str(tmp_path), quiet=True,
                      task=task, class_names=task.class_names)
    history = trainer.fit(epochs=5)
    assert tuple(history) == ("epoch", "train_loss", "train_dice", "train_iou", "val_loss",
                              "val_dice", "val_iou", "lr", "seconds")
    assert history["val_dice"][-1] > 0.9 and history["train_loss"][-1] < history["train_loss"][0]
    final = json.loads((tmp_path / "metrics.json").read_text())["final"]
    assert final["val_dice"] == history["val_dice"][-1]
    assert set(final["dice_per_class"]) == {"background", "shape"}
    assert numpy.array(final["confusion_matrix"]).sum() == 96 * 16 * 16
    for picture in ("predictions.png", "curves.png"):
        assert (tmp_path / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
