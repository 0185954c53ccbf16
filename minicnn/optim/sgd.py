"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""
from ..backend import array_module, is_cupy_array
from ..gpu_kernels.optim import sgd_momentum_update
from .optimizer import Optimizer, check_setting, with_weight_decay


class SGD(Optimizer):
    """w <- w - lr * d, where, with g = dL/dw + weight_decay * w and buffer b (torch.optim.SGD):

        momentum == 0:   d = g
        momentum  > 0:   b = g                                  at the first step
                         b = momentum * b + (1 - dampening) * g  afterwards
                         d = b                   (heavy ball)
                         d = g + momentum * b    (nesterov=True; needs dampening == 0)

    The buffer is a running sum of past gradients: steps along directions the gradients keep
    agreeing on grow, oscillations across a narrow valley cancel (Polyak 1964; Sutskever et
    al. 2013 for the Nesterov form used here).
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_group(self, group):
        super()._check_group(group)
        check_setting(self._name, "momentum", group["momentum"], group["momentum"] >= 0, ">= 0")
        check_setting(self._name, "weight_decay", group["weight_decay"], group["weight_decay"] >= 0,
                      ">= 0")
        check_setting(self._name, "nesterov", group["nesterov"],
                      not group["nesterov"] or (group["momentum"] > 0 and group["dampening"] == 0),
                      "nesterov=True only with momentum > 0 and dampening == 0")

    def _update(self, param, grad, state, group):
        momentum = group["momentum"]
        if momentum != 0 and is_cupy_array(param):
            # On the GPU one fused kernel does the whole update (kernels/optim.cu).
            first_step = state.get("momentum_buffer") is None
            if first_step:
                state["momentum_buffer"] = array_module(param).empty_like(param)
            sgd_momentum_update(param, grad, state["momentum_buffer"], group["lr"], momentum,
                                group["dampening"], group["weight_decay"], group["nesterov"],
                                first_step)
            return
        grad = with_weight_decay(grad, param, group["weight_decay"])
        if momentum != 0:
            # Made at the first step with momentum on, so a scheduler may switch it on later.
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = grad.copy()
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param -= group["lr"] * grad
