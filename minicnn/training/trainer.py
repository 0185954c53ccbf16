"""The training loop: epochs of forward, loss, backward, step; evaluation; checkpoints.

    trainer = Trainer(model, optimizer, train_loader, val_loader, scheduler, out_dir="runs/x")
    history = trainer.fit(epochs=10)          # or fit(..., resume=True) after an interruption

After every epoch the trainer evaluates on `val_loader`, appends to the history, writes
`checkpoint.npz` (model, optimizer, scheduler, RNG state, epoch, history) and
`metrics.json`; at the end it writes `model.npz` (the model's state_dict) and `curves.png`. Because the
checkpoint includes the global RNG state, which drives shuffling, dropout and augmentation,
an interrupted run resumed from it computes exactly what the uninterrupted run would have.

Before the first step it warns when a step on a full batch would not fit in memory
(memory.py); when the loss stops being finite it says whether the data, the weights or
the computation is at fault.

What is learned comes from a task (tasks.py): classification by default (`loss_fn`, the
cross-entropy unless given, and accuracy); `Trainer(..., task=SegmentationTask(...))` and
others bring their own loss, metrics and pictures to the same loop.
"""
import json
import math
import os
import sys
import time

import numpy
from tqdm.auto import tqdm

from .. import functional as F
from ..serialization import save, write_atomically
from ..autograd import Tensor, no_grad
from ..backend import move_array, to_numpy
from ..backend.random import get_rng_state, set_rng_state
from ..data import DataLoader
from .checkpoint import load_checkpoint, save_checkpoint
from .memory import warn_if_step_too_large
from .plots import save_curves

from .tasks import ClassificationTask


def history_keys(metrics):
    """epoch, train_loss, train_<metric>..., val_loss, val_<metric>..., lr, seconds."""
    return (("epoch", "train_loss") + tuple(f"train_{m}" for m in metrics) + ("val_loss",)
            + tuple(f"val_{m}" for m in metrics) + ("lr", "seconds"))


HISTORY_KEYS = history_keys(ClassificationTask.metrics)


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the last good checkpoint is left as it was."""


class Trainer:
    def __init__(self, model, optimizer, train_loader, val_loader=None, scheduler=None,
                 loss_fn=None, out_dir=None, patience=None, quiet=False, class_names=None,
                 task=None):
        if task is not None and loss_fn is not None:
            raise ValueError("Trainer: give either a task or a loss_fn (a classification "
                             "task's loss), not both")
        self.model = model
        self.optimizer = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.scheduler = scheduler
        self.task = task or ClassificationTask(loss_fn or F.cross_entropy)
        self.out_dir = out_dir
        self.patience = patience
        self.quiet = quiet
        self.class_names = list(class_names) if class_names is not None else None
        self.history = {key: [] for key in history_keys(self.task.metrics)}
        self.stopped = None
        first = next(iter(model.parameters()), None)
        self.device = first.device if first is not None else "cpu"

    # --- files ------------------------------------------------------------------------
    def path(self, name):
        return os.path.join(self.out_dir, name)

    def resume(self):
        """Load out_dir/checkpoint.npz; returns the number of epochs already done."""
        path = self.path("checkpoint.npz")
        if not os.path.exists(path):
            raise FileNotFoundError(f"resume: no checkpoint at {path}; train without resume first")
        epoch, self.history = load_checkpoint(path, self.model, self.optimizer, self.scheduler)
        return epoch

    def write_metrics(self, final=None):
        summary = {"history": self.history, "stopped": self.stopped,
                   "class_names": self.class_names, "final": final}
        text = json.dumps(summary, indent=1).encode("utf-8")
        write_atomically(self.path("metrics.json"), lambda file: file.write(text))

    # --- one pass -----------------------------------------------------------------------
    def to_device(self, batch):
        """The batch's Tensors on the model's device; lists (of boxes, say) item by item."""
        return [self.to_device(item) if isinstance(item, (list, tuple))
                else Tensor(move_array(item.data, self.device)) for item in batch]

    def step_loss(self, batch):
        """The task's loss on a batch as the loader yields it (what a training step computes)."""
        return self.task.loss(self.model, self.to_device(batch))[0]

    def progress(self, loader, description):
        return tqdm(loader, desc=description, leave=False,
                    disable=self.quiet or not sys.stdout.isatty())

    def train_epoch(self, epoch):
        """One pass over train_loader; returns (mean loss, the task's metrics summary)."""
        self.model.train()
        self.task.on_epoch_start(epoch, self.model)     # after train(): it may freeze layers
        total_loss, seen, tally = 0.0, 0, self.task.tally()
        for step, batch in enumerate(self.progress(self.train_loader, f"epoch {epoch}")):
            batch = self.to_device(batch)
            loss, outputs = self.task.loss(self.model, batch)
            value = loss.item()
            if not math.isfinite(value):
                raise TrainingDiverged(self.divergence_message(value, epoch, step, batch, outputs))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total_loss += value * len(batch[0])
            seen += len(batch[0])
            tally.add(outputs, batch)
        return total_loss / seen, tally.summary()

    def divergence_message(self, value, epoch, step, batch, outputs):
        done = len(self.history["epoch"])
        kept = (f"the checkpoint of epoch {done} in {self.path('checkpoint.npz')} is kept"
                if self.out_dir and done else "no checkpoint was written")
        return (f"fit: the loss became {value} at epoch {epoch}, batch {step}; training stopped "
                f"and {kept}. " + self.divergence_cause(batch, outputs))

    def divergence_cause(self, batch, outputs):
        """Which of the data, the weights and the computation made the loss non-finite."""
        for field, (name, tensor) in enumerate(zip(("inputs", "targets"), batch)):
            if not isinstance(tensor, Tensor):          # a list of boxes, say
                continue
            values = to_numpy(tensor.data)
            if values.dtype.kind != "f" or numpy.isfinite(values).all():
                continue
            rows = numpy.flatnonzero(~numpy.isfinite(values.reshape(len(values), -1)).all(axis=1))
            what = "NaN" if numpy.isnan(values).any() else "infinite values"
            found = self.nonfinite_samples(field)
            where = (f"the training set holds NaN or infinity in the {name} of samples {found}"
                     if found else "no sample of the training set does, so a transform made them")
            return (f"The data is at fault, not the learning rate: the batch's {name} hold {what} "
                    f"in {len(rows)} of its {len(values)} samples (positions "
                    f"{', '.join(map(str, rows[:5]))} in the batch); {where}.")
        for name, parameter in self.model.named_parameters():
            if not numpy.isfinite(to_numpy(parameter.data)).all():
                return (f"The weight {name} holds NaN or infinity: an earlier step diverged (or "
                        "it was loaded so). A smaller learning rate (--lr) usually cures this.")
        if not isinstance(outputs, Tensor):             # a task's structured outputs
            return ("The inputs and the weights are finite, so the computation made it: the "
                    "model's outputs overflowed, or the loss function did.")
        values = to_numpy(outputs.data)
        largest = numpy.abs(values).max()
        # Beyond a quarter of the largest float, differences of outputs (log-softmax) overflow.
        if not numpy.isfinite(largest) or largest > numpy.finfo(values.dtype).max / 4:
            return (f"The inputs and the weights are finite but the model's outputs reach "
                    f"{largest:.3g}: the activations overflowed. A smaller learning rate (--lr) "
                    "or inputs scaled to about [0, 1] usually cure this.")
        return ("The inputs, the weights and the model's outputs are finite, so the loss "
                "function made it: check the targets (a class index out of range?) and the loss.")

    def nonfinite_samples(self, field, most=5):
        """Indices of the first training samples whose `field` (0: inputs, 1: targets) holds
        NaN or infinity, from one pass over the training set in order."""
        dataset = getattr(self.train_loader, "dataset", None)
        if dataset is None:
            return []
        found, start, rng_state = [], 0, get_rng_state()
        try:       # a transform may draw random numbers: leave the global RNG as it was
            for batch in DataLoader(dataset, batch_size=1024):
                values = to_numpy(batch[field].data)
                rows = ~numpy.isfinite(values.reshape(len(values), -1)).all(axis=1)
                found += (start + numpy.flatnonzero(rows)).tolist()
                start += len(values)
                if len(found) >= most:
                    break
        finally:
            set_rng_state(rng_state)
        return found[:most]

    def evaluate(self, loader):
        """{"loss", and the task's summary} of the model on `loader`; for classification
        {"loss", "accuracy", "predictions", "targets"}."""
        self.model.eval()
        total_loss, seen, tally = 0.0, 0, self.task.tally()
        with no_grad():
            for batch in self.progress(loader, "evaluate"):
                batch = self.to_device(batch)
                loss, outputs = self.task.loss(self.model, batch)
                total_loss += loss.item() * len(batch[0])
                seen += len(batch[0])
                tally.add(outputs, batch)
        return {"loss": total_loss / seen, **tally.summary()}

    # --- the loop ---------------------------------------------------------------------------
    def fit(self, epochs, resume=False):
        """Train until `epochs` epochs are done in all, counting those already in the history
        (resume=True first loads them from out_dir/checkpoint.npz); returns the history."""
        if self.out_dir:
            os.makedirs(self.out_dir, exist_ok=True)
        if resume:
            self.resume()
        start = self.history["epoch"][-1] if self.history["epoch"] else 0
        if start < epochs:
            warn_if_step_too_large(self.model, self.step_loss, self.train_loader, self.device)
        val = None
        for epoch in range(start + 1, epochs + 1):
            began = time.perf_counter()
            lr = self.optimizer.param_groups[0]["lr"]
            try:
                train_loss, train_metrics = self.train_epoch(epoch)
            except TrainingDiverged as error:
                self.stopped = str(error)
                if self.out_dir:
                    self.write_metrics()
                raise
            if self.scheduler is not None:
                self.scheduler.step()
            val = self.evaluate(self.val_loader) if self.val_loader is not None else None
            self.record(epoch=epoch, train_loss=train_loss, val_loss=val and val["loss"],
                        lr=lr, seconds=time.perf_counter() - began,
                        **{f"train_{m}": train_metrics[m] for m in self.task.metrics},
                        **{f"val_{m}": val and val[m] for m in self.task.metrics})
            if self.out_dir:
                save_checkpoint(self.path("checkpoint.npz"), self.model, self.optimizer,
                                epoch, self.history, self.scheduler)
                self.write_metrics()
            if self.should_stop_early():
                self.stopped = (f"early stopping: the validation loss has not improved for "
                                f"{self.patience} epochs")
                self.log(self.stopped)
                break
        self.finish(val)
        return self.history

    def record(self, **values):
        for key, value in values.items():
            self.history[key].append(value)
        if not self.quiet:
            h = {k: v[-1] for k, v in self.history.items()}
            line = f"epoch {h['epoch']:3d}  train " + self.describe(h, "train")
            if h["val_loss"] is not None:
                line += "  val " + self.describe(h, "val")
            self.log(line + f"  lr {h['lr']:.2e}  {h['seconds']:.1f} s")

    def describe(self, values, split):
        """'loss 0.1234 acc 97.50%' for one split, the task's metrics as percentages."""
        return f"loss {values[split + '_loss']:.4f}" + "".join(
            f" {label} {100 * values[f'{split}_{name}']:5.2f}%"
            for name, label in self.task.metrics.items())

    def log(self, line):
        if not self.quiet:
            print(line, flush=True)

    def should_stop_early(self):
        losses = self.history["val_loss"]
        if not self.patience or not losses or losses[-1] is None:
            return False
        return len(losses) - 1 - int(numpy.argmin(losses)) >= self.patience

    def finish(self, val):
        """Write model.npz and the final metrics (the task's: for classification the last
        evaluation's confusion matrix), the curves and the task's pictures."""
        if not self.out_dir:
            return
        save(self.model.state_dict(), self.path("model.npz"))
        if self.val_loader is not None and val is None:      # resumed with nothing left to do
            val = self.evaluate(self.val_loader)
        final = None
        if val is not None:
            final = {"val_loss": val["loss"], **self.task.final(val, self.class_names)}
        self.write_metrics(final)
        # Drawn once at the end: matplotlib takes about 0.15 s, a tenth of a LeNet epoch.
        save_curves(self.history, self.path("curves.png"), tuple(self.task.metrics))
        if self.val_loader is not None:
            self.task.pictures(self.out_dir, self.model, self.val_loader)


def fit(model, train_loader, val_loader, optimizer, epochs, scheduler=None, **options):
    """Train `model` for `epochs` epochs; options as for Trainer (out_dir, patience, quiet, ...)."""
    return Trainer(model, optimizer, train_loader, val_loader, scheduler, **options).fit(epochs)
