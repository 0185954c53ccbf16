"""Checkpoints: everything needed to continue training exactly where it stopped.

A checkpoint holds the model's and the optimizer's state, the scheduler's, the global RNG
state, the epoch and the metric history. Written with minicnn.save, which writes a new file
and renames it over the old one, so a crash while saving never leaves a half-written
checkpoint: the previous one stays intact.
"""
import json

from ..serialization import load, save
from ..backend.random import get_rng_state, set_rng_state


def save_checkpoint(path, model, optimizer, epoch, history, scheduler=None):
    save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else {},
        # The RNG state holds 128-bit integers and the history lists of floats:
        # JSON keeps both exactly.
        "rng_state": json.dumps(get_rng_state()),
        "history": json.dumps(history),
        "epoch": epoch,
    }, path)


def load_checkpoint(path, model, optimizer=None, scheduler=None):
    """Restore the states saved by save_checkpoint; returns (epoch, history)."""
    state = load(path)
    model.load_state_dict(state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"]:
        scheduler.load_state_dict(state["scheduler"])
    set_rng_state(json.loads(str(state["rng_state"])))
    return int(state["epoch"]), json.loads(str(state["history"]))
