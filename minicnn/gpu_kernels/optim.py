"""Fused optimizer updates on the GPU (kernels/optim.cu): one kernel per parameter step,
updating the parameter and its state arrays in place (they must be contiguous; the
gradient is made contiguous here)."""
import math

import numpy

from ..backend import array_module
from ..backend.cuda_kernels import get_kernel, int64, launch


def sgd_momentum_update(param, grad, buf, lr, momentum, dampening, weight_decay, nesterov,
                        first_step):
    scalar = param.dtype.type
    grad = array_module(grad).ascontiguousarray(grad)
    launch(get_kernel("optim", "sgd_momentum_update", param.dtype), param.size, param, grad, buf,
           int64(param.size), scalar(lr), scalar(momentum), scalar(dampening),
           scalar(weight_decay), numpy.bool_(nesterov), numpy.bool_(first_step))


def adam_update(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay,
                decoupled_weight_decay):
    scalar = param.dtype.type
    grad = array_module(grad).ascontiguousarray(grad)
    launch(get_kernel("optim", "adam_update", param.dtype), param.size, param, grad, exp_avg,
           exp_avg_sq, int64(param.size), scalar(lr), scalar(beta1), scalar(beta2), scalar(eps),
           scalar(weight_decay), numpy.bool_(decoupled_weight_decay), scalar(1 - beta1 ** step),
           scalar(math.sqrt(1 - beta2 ** step)))
