"""OneCycleLR: up to a peak learning rate and down far below the start, in one cycle."""
import math

from .base import LRScheduler, per_group


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
            for group, top in zip(groups, per_group("max_lr", max_lr, groups)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
            if cycle_momentum:
                for group, high, low in zip(groups, per_group("max_momentum", max_momentum, groups),
                                            per_group("base_momentum", base_momentum, groups)):
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
