// Fused optimizer updates: one pass over a parameter instead of a chain of elementwise
// launches, float and double. Formulas follow torch.optim.
//
// SGD with momentum (torch.optim.SGD):
//   g = grad + weight_decay * p
//   buf = g                                   on the first step
//   buf = momentum * buf + (1 - dampening) * g   afterwards
//   p -= lr * (nesterov ? g + momentum * buf : buf)
//
// Adam / AdamW (torch.optim.Adam, AdamW):
//   AdamW: p *= 1 - lr * weight_decay;   Adam: g = grad + weight_decay * p
//   m = beta1 * m + (1 - beta1) * g;     v = beta2 * v + (1 - beta2) * g^2
//   p -= lr / bias1 * m / (sqrt(v) / sqrt(bias2) + eps),   bias_k = 1 - beta_k^step

template <typename T>
__global__ void sgd_momentum_update(T* __restrict__ param, const T* __restrict__ grad, T* __restrict__ buf,
                                    long long size, T lr, T momentum, T dampening, T weight_decay,
                                    bool nesterov, bool first_step) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < size;
         i += (long long)blockDim.x * gridDim.x) {
        const T g = grad[i] + weight_decay * param[i];
        const T b = first_step ? g : momentum * buf[i] + (T(1) - dampening) * g;
        buf[i] = b;
        param[i] -= lr * (nesterov ? g + momentum * b : b);
    }
}

template <typename T>
__global__ void adam_update(T* __restrict__ param, const T* __restrict__ grad, T* __restrict__ exp_avg,
                            T* __restrict__ exp_avg_sq, long long size, T lr, T beta1, T beta2, T eps,
                            T weight_decay, bool decoupled_weight_decay, T bias_correction1,
                            T bias_correction2_sqrt) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < size;
         i += (long long)blockDim.x * gridDim.x) {
        T p = param[i];
        T g = grad[i];
        if (decoupled_weight_decay) p *= T(1) - lr * weight_decay;
        else g += weight_decay * p;
        const T m = beta1 * exp_avg[i] + (T(1) - beta1) * g;
        const T v = beta2 * exp_avg_sq[i] + (T(1) - beta2) * g * g;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        param[i] = p - (lr / bias_correction1) * m / (sqrt(v) / bias_correction2_sqrt + eps);
    }
}
