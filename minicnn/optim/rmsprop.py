"""RMSprop: divide each step by a running root-mean-square of the gradient."""
from ..backend import array_module
from .optimizer import Optimizer, check_setting, with_weight_decay


class RMSprop(Optimizer):
    """RMSprop (Hinton, Coursera lecture 6e), as torch.optim.RMSprop. With g = dL/dw:

        g = g + weight_decay * w
        v = alpha * v + (1 - alpha) * g^2            running mean of g^2
        a = alpha * a + (1 - alpha) * g              (centered: running mean of g)
        s = sqrt(v) + eps,  or sqrt(v - a^2) + eps when centered (a variance estimate)
        momentum == 0:  w = w - lr * g / s
        momentum  > 0:  b = momentum * b + g / s;   w = w - lr * b
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("alpha", "eps", "weight_decay", "momentum"):
            check_setting(self._name, name, group[name], group[name] >= 0, ">= 0")

    def _init_state(self, param, group):
        xp = array_module(param)
        state = {"square_avg": xp.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(param)
        return state

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        alpha = group["alpha"]
        grad = with_weight_decay(grad, param, group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            scale = xp.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            scale = xp.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]
            buffer *= group["momentum"]
            buffer += grad / scale
            param -= group["lr"] * buffer
        else:
            param -= group["lr"] * (grad / scale)
