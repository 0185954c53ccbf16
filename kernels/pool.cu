// Pooling and index scatter on (planes, H, W) arrays, float and double: the CUDA twins of
// minicnn/cpu_kernels/pool_numba.py, with the same window description. Plane p = n * C + c.
// A window along one axis is, for output index o,
//
//     input positions start[o] + i * step,  i in [0, count[o]),  skipping those outside [0, size)
//
// fixed windows:     start[o] = o * stride - padding,  count[o] = kernel,  step = dilation
// adaptive windows:  start[o] = floor(o * size / out), count[o] = ceil((o + 1) * size / out) - start[o]
//
// Forward kernels run one thread per output element. Backward kernels scatter with
// atomicAdd, one thread per output element (or per value for scatter_add), since windows
// overlap when stride < kernel.

__device__ inline void taps_inside(long long start, long long count, long long step, long long size,
                                   long long* low, long long* high) {
    // The taps i in [low, high) whose position start + i * step lies in [0, size).
    *low = start >= 0 ? 0 : (step - 1 - start) / step;
    long long last = start < size ? min(count, (size - 1 - start) / step + 1) : 0;
    *high = max(*low, last);
}

struct Window {
    // Output element k = (p, oh, ow) and the taps [i_low, i_high) x [j_low, j_high) of its
    // window that lie inside the input.
    long long plane;
    int oh, ow;
    long long i_low, i_high, j_low, j_high;
};

__device__ inline Window window_of(long long k,
                                   const long long* row_start, const long long* row_count, long long row_step,
                                   const long long* col_start, const long long* col_count, long long col_step,
                                   int height, int width, int out_h, int out_w) {
    Window w;
    w.ow = k % out_w;
    w.oh = (k / out_w) % out_h;
    w.plane = k / ((long long)out_w * out_h);
    taps_inside(row_start[w.oh], row_count[w.oh], row_step, height, &w.i_low, &w.i_high);
    taps_inside(col_start[w.ow], col_count[w.ow], col_step, width, &w.j_low, &w.j_high);
    return w;
}

template <typename T>
__global__ void max_pool_planes(const T* __restrict__ x,
                                const long long* __restrict__ row_start, const long long* __restrict__ row_count, long long row_step,
                                const long long* __restrict__ col_start, const long long* __restrict__ col_count, long long col_step,
                                T* __restrict__ out, long long* __restrict__ index,
                                long long planes, int height, int width, int out_h, int out_w) {
    // out[p, oh, ow] = max over the window; index = h * W + w of the max. Ties keep the first
    // position in row-major order and a NaN wins and stays, PyTorch's rule.
    const long long total = planes * out_h * out_w;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
         k += (long long)blockDim.x * gridDim.x) {
        const Window win = window_of(k, row_start, row_count, row_step, col_start, col_count,
                                     col_step, height, width, out_h, out_w);
        const T* plane = x + win.plane * height * width;
        T best = plane[0];
        long long best_at = -1;
        for (long long i = win.i_low; i < win.i_high; ++i) {
            const long long h = row_start[win.oh] + i * row_step;
            for (long long j = win.j_low; j < win.j_high; ++j) {
                const long long w = col_start[win.ow] + j * col_step;
                const T value = plane[h * width + w];
                if (best_at < 0 || value > best || value != value) {
                    best = value;
                    best_at = h * width + w;
                }
            }
        }
        out[k] = best;
        index[k] = best_at;
    }
}

template <typename T>
__global__ void avg_pool_planes(const T* __restrict__ x,
                                const long long* __restrict__ row_start, const long long* __restrict__ row_count, long long row_step,
                                const long long* __restrict__ col_start, const long long* __restrict__ col_count, long long col_step,
                                const double* __restrict__ divisor, T* __restrict__ out,
                                long long planes, int height, int width, int out_h, int out_w) {
    // out[p, oh, ow] = (sum of the window's in-bounds taps) / divisor[oh, ow].
    const long long total = planes * out_h * out_w;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
         k += (long long)blockDim.x * gridDim.x) {
        const Window win = window_of(k, row_start, row_count, row_step, col_start, col_count,
                                     col_step, height, width, out_h, out_w);
        const T* plane = x + win.plane * height * width;
        T total_value = 0;
        for (long long i = win.i_low; i < win.i_high; ++i)
            for (long long j = win.j_low; j < win.j_high; ++j)
                total_value += plane[(row_start[win.oh] + i * row_step) * width + col_start[win.ow] + j * col_step];
        out[k] = total_value / T(divisor[win.oh * out_w + win.ow]);
    }
}

template <typename T>
__global__ void avg_pool_backward_planes(const T* __restrict__ gy,
                                         const long long* __restrict__ row_start, const long long* __restrict__ row_count, long long row_step,
                                         const long long* __restrict__ col_start, const long long* __restrict__ col_count, long long col_step,
                                         const double* __restrict__ divisor, T* __restrict__ gx,
                                         long long planes, int height, int width, int out_h, int out_w) {
    // The adjoint of avg_pool_planes: gx[p, h, w] += gy[p, oh, ow] / divisor[oh, ow] for every
    // tap of window (oh, ow). gx must be zeroed by the caller.
    const long long total = planes * out_h * out_w;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
         k += (long long)blockDim.x * gridDim.x) {
        const Window win = window_of(k, row_start, row_count, row_step, col_start, col_count,
                                     col_step, height, width, out_h, out_w);
        const T share = gy[k] / T(divisor[win.oh * out_w + win.ow]);
        T* plane = gx + win.plane * height * width;
        for (long long i = win.i_low; i < win.i_high; ++i)
            for (long long j = win.j_low; j < win.j_high; ++j)
                atomicAdd(&plane[(row_start[win.oh] + i * row_step) * width + col_start[win.ow] + j * col_step], share);
    }
}

template <typename T>
__global__ void scatter_add_planes(const T* __restrict__ values, const long long* __restrict__ index,
                                   T* __restrict__ out, long long planes, long long length,
                                   long long size, bool shared_index) {
    // out[p, index[q, l]] += values[p, l] with q = p, or q = 0 when one index row serves every
    // plane. out must be zeroed by the caller. This is max-pool's backward and the backward of
    // every gather-based op (padding modes, interpolation).
    const long long total = planes * length;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
         k += (long long)blockDim.x * gridDim.x) {
        const long long p = k / length, l = k % length;
        const long long target = index[(shared_index ? 0 : p) * length + l];
        atomicAdd(&out[p * size + target], values[k]);
    }
}
