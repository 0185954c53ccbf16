"""Learning-rate schedules: change each parameter group's "lr" as training goes on.

Call `scheduler.step()` once per epoch (OneCycleLR: once per batch), after
`optimizer.step()`, as in PyTorch. The values match torch.optim.lr_scheduler. PyTorch
computes most schedules recursively (lr_t from lr_{t-1}); here each one is written in its
closed form, lr_t as a function of t, which is the formula a reader wants to see. The only
difference: a schedule here overrides an lr that was changed by hand or by a second scheduler
instead of chaining onto it.

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(90):
        train_one_epoch(model, optimizer)
        scheduler.step()

    base.py          LRScheduler: the step() protocol, get_last_lr, state_dict
    closed_form.py   StepLR, MultiStepLR, ExponentialLR, LinearLR, CosineAnnealingLR
    one_cycle.py     OneCycleLR (cycles momentum or Adam's beta1 too)
    plateau.py       ReduceLROnPlateau, driven by a metric instead of the epoch
"""
from .base import LRScheduler
from .closed_form import CosineAnnealingLR, ExponentialLR, LinearLR, MultiStepLR, StepLR
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR",
           "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau"]
