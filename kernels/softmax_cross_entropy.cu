// Fused softmax + cross-entropy over rows of logits (N, C) with class-index targets,
// float and double. With lse_n = log sum_j exp(x[n, j]):
//   loss_n = w[t_n] * (lse_n - x[n, t_n])        (0 where t_n == ignore_index)
//   dloss_n / dx[n, j] = w[t_n] * (softmax(x)[n, j] - [j == t_n])
// One thread per row: class counts in CNNs are small, and a row's max, sum and target
// lookups then need no synchronisation. The log-sum-exp subtracts the row max for stability.

template <typename T>
__global__ void softmax_cross_entropy_forward(const T* __restrict__ logits, const long long* __restrict__ target,
                                              const T* __restrict__ class_weight, T* __restrict__ loss,
                                              T* __restrict__ lse, int rows, int classes,
                                              long long ignore_index) {
    for (int n = blockIdx.x * blockDim.x + threadIdx.x; n < rows; n += blockDim.x * gridDim.x) {
        const T* row = logits + (long long)n * classes;
        T peak = row[0];
        for (int j = 1; j < classes; ++j) peak = row[j] > peak ? row[j] : peak;
        T sum = 0;
        for (int j = 0; j < classes; ++j) sum += exp(row[j] - peak);
        const T log_sum_exp = peak + log(sum);
        lse[n] = log_sum_exp;
        const long long t = target[n];
        loss[n] = t == ignore_index ? T(0)
                : class_weight[t] * (log_sum_exp - row[t]);
    }
}

template <typename T>
__global__ void softmax_cross_entropy_backward(const T* __restrict__ logits, const long long* __restrict__ target,
                                               const T* __restrict__ class_weight, const T* __restrict__ lse,
                                               const T* __restrict__ grad_loss, T* __restrict__ grad_logits,
                                               int rows, int classes, long long ignore_index) {
    // One thread per logit; grad_loss[n] already carries the reduction's scale (1 or 1/total weight).
    const long long total = (long long)rows * classes;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int n = index / classes, j = index % classes;
        const long long t = target[n];
        if (t == ignore_index) { grad_logits[index] = T(0); continue; }
        const T weight = class_weight[t];
        const T softmax = exp(logits[index] - lse[n]);
        grad_logits[index] = grad_loss[n] * weight * (softmax - (j == t ? T(1) : T(0)));
    }
}
