// Fused softmax + cross-entropy over rows of logits (rows, classes), float and double.
// Each row n has constant coefficients a[n, c] (the one-hot target, smoothed and weighted
// by class; all zero for an ignored target), and with lse_n = log sum_c exp(x[n, c]):
//
//   loss_n = -sum_c a[n, c] log softmax(x_n)_c = lse_n * A_n - sum_c a[n, c] x[n, c]
//   dloss_n / dx[n, c] = softmax(x_n)_c * A_n - a[n, c],          A_n = sum_c a[n, c]
//
// The forward pass runs one thread per row (class counts in CNNs are small, and a row's
// max, sums and dot product then need no synchronisation); the log-sum-exp subtracts the
// row max for stability. The backward pass runs one thread per logit.

template <typename T>
__global__ void softmax_cross_entropy_forward(const T* __restrict__ logits, const T* __restrict__ coefficients,
                                              T* __restrict__ loss, T* __restrict__ lse,
                                              T* __restrict__ coefficient_sum, int rows, int classes) {
    for (int n = blockIdx.x * blockDim.x + threadIdx.x; n < rows; n += blockDim.x * gridDim.x) {
        const T* row = logits + (long long)n * classes;
        const T* a = coefficients + (long long)n * classes;
        T peak = row[0];
        for (int c = 1; c < classes; ++c) peak = row[c] > peak ? row[c] : peak;
        T sum = 0, total_a = 0, dot = 0;
        for (int c = 0; c < classes; ++c) {
            sum += exp(row[c] - peak);
            total_a += a[c];
            dot += a[c] * row[c];
        }
        const T log_sum_exp = peak + log(sum);
        lse[n] = log_sum_exp;
        coefficient_sum[n] = total_a;
        loss[n] = log_sum_exp * total_a - dot;
    }
}

template <typename T>
__global__ void softmax_cross_entropy_backward(const T* __restrict__ logits, const T* __restrict__ coefficients,
                                               const T* __restrict__ lse, const T* __restrict__ coefficient_sum,
                                               const T* __restrict__ grad_loss, T* __restrict__ grad_logits,
                                               int rows, int classes) {
    const long long total = (long long)rows * classes;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int n = index / classes;
        const T softmax = exp(logits[index] - lse[n]);
        grad_logits[index] = grad_loss[n] * (softmax * coefficient_sum[n] - coefficients[index]);
    }
}
