"""`LRScheduler`: the base class of the epoch-driven schedules (see the package docstring)."""
from ..optimizer import Optimizer


class LRScheduler:
    """Base class. `last_epoch` counts the calls to step(); the constructor makes the first
    call, so the optimizer holds the lr for t = 0 at once. Subclasses give either
    `multiplier(t)` (lr_t = initial lr * multiplier) or the whole `get_lr()`."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected a minicnn Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        for position, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: param_groups[{position}] has no "
                               "'initial_lr', needed to resume with last_epoch >= 0; load the "
                               "optimizer's state_dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def step(self):
        self.last_epoch += 1
        self._last_lr = list(self.get_lr())
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def get_lr(self):
        """The learning rate of each group at t = last_epoch."""
        multiplier = self.multiplier(self.last_epoch)
        return [base_lr * multiplier for base_lr in self.base_lrs]

    def multiplier(self, t):
        raise NotImplementedError(f"{type(self).__name__} must implement multiplier(t) or get_lr()")

    def get_last_lr(self):
        """The learning rates set by the last step(), one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Every attribute except the optimizer: numbers, strings and lists, so it can be
        saved with minicnn.save. Restore with load_state_dict on a scheduler built the same way."""
        return {key: value for key, value in vars(self).items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


def per_group(name, value, groups):
    """One value per parameter group from a number or a list of them."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"expected one {name} per parameter group ({len(groups)}), "
                             f"got {len(value)}")
        return list(value)
    return [value] * len(groups)
