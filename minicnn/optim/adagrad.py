"""Adagrad: per-weight steps that shrink with the sum of all past squared gradients."""
from ..backend import array_module
from .optimizer import Optimizer, check_setting, with_weight_decay


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer 2011), as torch.optim.Adagrad. With g = dL/dw, step t:

        g = g + weight_decay * w
        s = s + g^2                                  (s starts at initial_accumulator_value)
        w = w - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    Weights whose gradients are rare keep large steps; busy ones slow down. Since s only
    grows, the steps eventually vanish, which RMSprop and Adam fix with running averages.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_setting(self._name, name, group[name], group[name] >= 0, ">= 0")

    def _init_state(self, param, group):
        xp = array_module(param)
        return {"sum": xp.full_like(param, group["initial_accumulator_value"])}

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        grad = with_weight_decay(grad, param, group["weight_decay"])
        learning_rate = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param -= learning_rate * (grad / (xp.sqrt(state["sum"]) + group["eps"]))
