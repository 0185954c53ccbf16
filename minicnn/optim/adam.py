"""Adam and AdamW: steps scaled by running averages of the gradient and of its square."""
import math

from ..backend import array_module, is_cupy_array
from ..gpu_kernels.optim import adam_update
from .optimizer import Optimizer, check_betas, check_setting, with_weight_decay


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), as torch.optim.Adam. With g = dL/dw and t = state["step"]:

        g = g + weight_decay * w                     (L2; AdamW instead decays w directly)
        m = beta1 * m + (1 - beta1) * g              running mean of g
        v = beta2 * v + (1 - beta2) * g^2            running mean of g^2
        v_max = max(v_max, v)                        (amsgrad: the denominator never shrinks)
        w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The divisions by 1 - beta^t undo the bias of m and v toward their zero start. Each
    weight gets its own step size lr / sqrt(v): large for rarely-moving weights, small for
    noisy ones.
    """
    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _check_group(self, group):
        super()._check_group(group)
        check_betas(self._name, group["betas"])
        check_setting(self._name, "eps", group["eps"], group["eps"] >= 0, ">= 0")
        check_setting(self._name, "weight_decay", group["weight_decay"],
                      group["weight_decay"] >= 0, ">= 0")

    def _init_state(self, param, group):
        xp = array_module(param)
        state = {"exp_avg": xp.zeros_like(param), "exp_avg_sq": xp.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(param)
        return state

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        lr, (beta1, beta2), step = group["lr"], group["betas"], state["step"]
        if is_cupy_array(param) and not group["amsgrad"]:
            # On the GPU one fused kernel does the whole update (kernels/optim.cu).
            adam_update(param, grad, state["exp_avg"], state["exp_avg_sq"], step, lr, beta1, beta2,
                        group["eps"], group["weight_decay"], self.decoupled_weight_decay)
            return
        if self.decoupled_weight_decay:
            param *= 1 - lr * group["weight_decay"]
        else:
            grad = with_weight_decay(grad, param, group["weight_decay"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        step_size = lr / (1 - beta1 ** step)
        denominator = xp.sqrt(exp_avg_sq) / math.sqrt(1 - beta2 ** step) + group["eps"]
        param -= step_size * (exp_avg / denominator)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW:

        w = w * (1 - lr * weight_decay)    before the Adam step, instead of adding
                                           weight_decay * w to g

    With plain Adam the decay term is divided by sqrt(v) like the gradient, so weights with
    large gradients are barely regularized; decoupling makes the decay the same for all.
    """
    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
