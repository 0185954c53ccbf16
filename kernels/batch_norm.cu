// Batch normalisation over (N, C, L) data viewed as C channels of N * L values each
// (L = H * W for images, 1 for (N, C) input), float and double.
//
//   mean_c = (1 / M) sum x,   var_c = (1 / M) sum (x - mean_c)^2,   M = N * L
//   y = (x - mean_c) * invstd_c * weight_c + bias_c,   invstd_c = 1 / sqrt(var_c + eps)
//   dx = weight_c * invstd_c * (dy - mean(dy) - xhat * mean(dy * xhat)),   xhat = (x - mean_c) * invstd_c
//
// The reductions use one block per channel and a shared-memory tree; two passes (mean,
// then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.

#define BLOCK 256

template <typename T>
__device__ T block_sum(T value, T* shared) {
    shared[threadIdx.x] = value;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) shared[threadIdx.x] += shared[threadIdx.x + half];
        __syncthreads();
    }
    T total = shared[0];
    __syncthreads();
    return total;
}

__device__ inline long long element_of(long long k, int channel, int channels, int length) {
    // k-th value of channel c: sample k / length, position k % length.
    return ((k / length) * channels + channel) * (long long)length + k % length;
}

template <typename T>
__global__ void batch_norm_stats(const T* __restrict__ x, T* __restrict__ mean, T* __restrict__ var,
                                 int batch, int channels, int length) {
    __shared__ T shared[BLOCK];
    const int c = blockIdx.x;
    const long long count = (long long)batch * length;
    T sum = 0;
    for (long long k = threadIdx.x; k < count; k += blockDim.x) sum += x[element_of(k, c, channels, length)];
    const T m = block_sum(sum, shared) / T(count);
    T squares = 0;
    for (long long k = threadIdx.x; k < count; k += blockDim.x) {
        const T d = x[element_of(k, c, channels, length)] - m;
        squares += d * d;
    }
    const T v = block_sum(squares, shared) / T(count);
    if (threadIdx.x == 0) { mean[c] = m; var[c] = v; }
}

template <typename T>
__global__ void batch_norm_backward_reduce(const T* __restrict__ gy, const T* __restrict__ x,
                                           const T* __restrict__ mean, const T* __restrict__ invstd,
                                           T* __restrict__ sum_gy, T* __restrict__ sum_gy_xhat,
                                           int batch, int channels, int length) {
    __shared__ T shared[BLOCK];
    const int c = blockIdx.x;
    const long long count = (long long)batch * length;
    T a = 0, b = 0;
    for (long long k = threadIdx.x; k < count; k += blockDim.x) {
        const long long e = element_of(k, c, channels, length);
        a += gy[e];
        b += gy[e] * (x[e] - mean[c]) * invstd[c];
    }
    a = block_sum(a, shared);
    b = block_sum(b, shared);
    if (threadIdx.x == 0) { sum_gy[c] = a; sum_gy_xhat[c] = b; }
}

template <typename T>
__global__ void batch_norm_backward_input(const T* __restrict__ gy, const T* __restrict__ x,
                                          const T* __restrict__ mean, const T* __restrict__ invstd,
                                          const T* __restrict__ weight, const T* __restrict__ sum_gy,
                                          const T* __restrict__ sum_gy_xhat, T* __restrict__ gx,
                                          int batch, int channels, int length) {
    const long long total = (long long)batch * channels * length;
    const T count = T((long long)batch * length);
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int c = (index / length) % channels;
        const T xhat = (x[index] - mean[c]) * invstd[c];
        const T scale = weight[c] * invstd[c];
        gx[index] = scale * (gy[index] - sum_gy[c] / count - xhat * sum_gy_xhat[c] / count);
    }
}
