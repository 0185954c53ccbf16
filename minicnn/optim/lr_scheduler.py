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
"""
import bisect
import math

from .optimizer import Optimizer


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


class StepLR(LRScheduler):
    """lr_t = initial_lr * gamma ** (t // step_size): divide by 1/gamma every step_size epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def multiplier(self, t):
        return self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """lr_t = initial_lr * gamma ** (number of milestones <= t)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def multiplier(self, t):
        return self.gamma ** bisect.bisect_right(self.milestones, t)


class ExponentialLR(LRScheduler):
    """lr_t = initial_lr * gamma ** t."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def multiplier(self, t):
        return self.gamma ** t


class LinearLR(LRScheduler):
    """Warm-up: lr_t = initial_lr * (start_factor + (end_factor - start_factor) *
    min(t, total_iters) / total_iters), then constant."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] and end_factor in "
                             f"[0, 1], got start_factor={start_factor}, end_factor={end_factor}")
        if not isinstance(total_iters, int) or total_iters <= 0:
            raise ValueError(f"LinearLR: total_iters must be a positive integer, got {total_iters!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def multiplier(self, t):
        progress = min(t, self.total_iters) / self.total_iters
        return self.start_factor + (self.end_factor - self.start_factor) * progress


class CosineAnnealingLR(LRScheduler):
    """lr_t = eta_min + (initial_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2
    (Loshchilov & Hutter 2017, without restarts): half a cosine from initial_lr down to
    eta_min over T_max epochs, then back up if training goes on, as in PyTorch."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin 2017), as torch.optim.lr_scheduler.OneCycleLR; step()
    once per batch. With initial_lr = max_lr / div_factor, min_lr = initial_lr / final_div_factor
    and p = pct_start * total_steps, the lr is annealed (cosine or linear) between:

        two phases:    initial_lr -> max_lr (steps 0..p-1)  -> min_lr (..total_steps-1)
        three phases:  initial_lr -> max_lr (0..p-1) -> initial_lr (..2p-2) -> min_lr (..end)

    With cycle_momentum, momentum (or Adam's beta1) moves the opposite way, from
    max_momentum down to base_momentum while the lr rises, and back: a large lr with a
    large momentum would overshoot. The per-group values live in the optimizer's
    param_groups ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"), so
    the optimizer's state_dict carries them for resuming.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"OneCycleLR: total_steps must be a positive integer, got {total_steps!r}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', "
                             f"got {anneal_strategy!r}")
        groups = optimizer.param_groups
        if cycle_momentum and "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError(f"OneCycleLR: cycle_momentum=True needs an optimizer with momentum "
                             f"or betas, but {type(optimizer).__name__} has neither; pass "
                             "cycle_momentum=False")
        self.total_steps, self.pct_start, self.three_phase = total_steps, pct_start, three_phase
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, cycle_momentum
        self.use_beta1 = "betas" in optimizer.defaults
        if last_epoch == -1:
            for group, top in zip(groups, _per_group("max_lr", max_lr, groups)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
            if cycle_momentum:
                for group, high, low in zip(groups, _per_group("max_momentum", max_momentum, groups),
                                            _per_group("base_momentum", base_momentum, groups)):
                    group["max_momentum"], group["base_momentum"] = high, low
                    self._set_momentum(group, high)
        super().__init__(optimizer, last_epoch)

    def _phases(self):
        """(last step of the phase, lr from, lr to, momentum from, momentum to) per phase."""
        rise_end = float(self.pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if self.three_phase:
            return [(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                    (2 * rise_end, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                    (last, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        return [(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (last, "max_lr", "min_lr", "base_momentum", "max_momentum")]

    def _position(self):
        """The phase that step t = last_epoch falls in, and the fraction of it done."""
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: step() called {t} times but total_steps is "
                             f"{self.total_steps}")
        phases, phase_start = self._phases(), 0.0
        for phase in phases:
            if t <= phase[0] or phase is phases[-1]:
                return phase, (t - phase_start) / (phase[0] - phase_start)
            phase_start = phase[0]

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        (_, lr_from, lr_to, _, _), pct = self._position()
        return [self._anneal(group[lr_from], group[lr_to], pct)
                for group in self.optimizer.param_groups]

    def step(self):
        super().step()
        if self.cycle_momentum:
            (_, _, _, momentum_from, momentum_to), pct = self._position()
            for group in self.optimizer.param_groups:
                self._set_momentum(group, self._anneal(group[momentum_from], group[momentum_to], pct))

    def _set_momentum(self, group, momentum):
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum


class ReduceLROnPlateau(LRScheduler):
    """Divide the lr when a watched metric stops improving: step(metric) once per epoch.

    A metric is an improvement when it beats the best so far by the threshold
    (mode "min", threshold_mode "rel": metric < best * (1 - threshold); "abs":
    metric < best - threshold; mode "max" mirrors both). After more than `patience` epochs
    without one, every lr becomes max(lr * factor, min_lr), then `cooldown` epochs pass
    before bad epochs count again. Changes smaller than eps are skipped. As PyTorch's.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected a minicnn Optimizer, got "
                            f"{type(optimizer).__name__}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', "
                             f"got {threshold_mode!r}")
        self.optimizer = optimizer
        self.min_lrs = _per_group("min_lr", min_lr, optimizer.param_groups)
        self.mode, self.factor, self.patience, self.cooldown = mode, factor, patience, cooldown
        self.threshold, self.threshold_mode, self.eps = threshold, threshold_mode, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def step(self, metrics):
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _is_better(self, metric):
        sign = 1 if self.mode == "min" else -1      # "max" is "min" of the negated metric
        if self.threshold_mode == "rel":
            return sign * metric < sign * self.best * (1 - sign * self.threshold)
        return sign * metric < sign * self.best - self.threshold


def _per_group(name, value, groups):
    """One value per parameter group from a number or a list of them."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"expected one {name} per parameter group ({len(groups)}), "
                             f"got {len(value)}")
        return list(value)
    return [value] * len(groups)
