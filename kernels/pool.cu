// Pooling over NCHW planes, float and double. Every kernel works on planes of
// `planes = batch * channels`, so (n, c) is one index p; outputs are (p, oy, ox).
//
// Window of output (oy, ox): rows iy = oy * stride_h - pad_h + i * dilation_h, i < kernel_h,
// and likewise for columns; positions outside the input are skipped (max) or counted as
// zeros depending on count_include_pad (average).

template <typename T>
__global__ void max_pool2d_forward(const T* __restrict__ x, T* __restrict__ y,
                                   long long* __restrict__ argmax,
                                   int planes, int height, int width, int out_h, int out_w,
                                   int kernel_h, int kernel_w, int stride_h, int stride_w,
                                   int pad_h, int pad_w, int dilation_h, int dilation_w) {
    // One thread per output. argmax stores iy * width + ix, PyTorch's index convention.
    const long long total = (long long)planes * out_h * out_w;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int ox = index % out_w;
        const int oy = (index / out_w) % out_h;
        const long long p = index / ((long long)out_w * out_h);
        const T* plane = x + p * height * width;
        T best = T(0);
        long long best_index = -1;
        for (int i = 0; i < kernel_h; ++i) {
            const int iy = oy * stride_h - pad_h + i * dilation_h;
            if (iy < 0 || iy >= height) continue;
            for (int j = 0; j < kernel_w; ++j) {
                const int ix = ox * stride_w - pad_w + j * dilation_w;
                if (ix < 0 || ix >= width) continue;
                const T value = plane[iy * width + ix];
                // NaN propagates, as in PyTorch: a NaN wins and is never replaced.
                const bool nan_wins = value != value && best == best;
                if (best_index < 0 || value > best || nan_wins) {
                    best = value;
                    best_index = (long long)iy * width + ix;
                }
            }
        }
        y[index] = best;
        argmax[index] = best_index;
    }
}

template <typename T>
__global__ void max_pool2d_backward(const T* __restrict__ gy, const long long* __restrict__ argmax,
                                    T* __restrict__ gx,
                                    int planes, int height, int width, int out_h, int out_w,
                                    int kernel_h, int kernel_w, int stride_h, int stride_w,
                                    int pad_h, int pad_w, int dilation_h, int dilation_w) {
    // One thread per input pixel gathers gy from every output window that chose it, found by
    // inverting iy = oy * stride_h - pad_h + i * dilation_h for each tap i.
    const long long total = (long long)planes * height * width;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int ix = index % width;
        const int iy = (index / width) % height;
        const long long p = index / ((long long)width * height);
        const long long self = (long long)iy * width + ix;
        T sum = 0;
        for (int i = 0; i < kernel_h; ++i) {
            const int y_offset = iy + pad_h - i * dilation_h;
            if (y_offset < 0 || y_offset % stride_h != 0 || y_offset / stride_h >= out_h) continue;
            const int oy = y_offset / stride_h;
            for (int j = 0; j < kernel_w; ++j) {
                const int x_offset = ix + pad_w - j * dilation_w;
                if (x_offset < 0 || x_offset % stride_w != 0 || x_offset / stride_w >= out_w) continue;
                const long long out = (p * out_h + oy) * out_w + x_offset / stride_w;
                if (argmax[out] == self) sum += gy[out];
            }
        }
        gx[index] = sum;
    }
}

template <typename T>
__device__ T avg_pool_divisor(int oy, int ox, int height, int width, int kernel_h, int kernel_w,
                              int stride_h, int stride_w, int pad_h, int pad_w,
                              bool count_include_pad, int divisor_override) {
    // PyTorch's rule: the window is first clipped to the padded input, which fixes the divisor
    // when padding counts, then to the input itself, which fixes it when it does not.
    if (divisor_override > 0) return T(divisor_override);
    int y0 = oy * stride_h - pad_h, x0 = ox * stride_w - pad_w;
    int y1 = min(y0 + kernel_h, height + pad_h), x1 = min(x0 + kernel_w, width + pad_w);
    if (count_include_pad) return T((y1 - y0) * (x1 - x0));
    y0 = max(y0, 0); x0 = max(x0, 0); y1 = min(y1, height); x1 = min(x1, width);
    return T((y1 - y0) * (x1 - x0));
}

template <typename T>
__global__ void avg_pool2d_forward(const T* __restrict__ x, T* __restrict__ y,
                                   int planes, int height, int width, int out_h, int out_w,
                                   int kernel_h, int kernel_w, int stride_h, int stride_w,
                                   int pad_h, int pad_w, bool count_include_pad,
                                   int divisor_override) {
    const long long total = (long long)planes * out_h * out_w;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int ox = index % out_w;
        const int oy = (index / out_w) % out_h;
        const long long p = index / ((long long)out_w * out_h);
        const T* plane = x + p * height * width;
        T sum = 0;
        for (int iy = max(oy * stride_h - pad_h, 0); iy < min(oy * stride_h - pad_h + kernel_h, height); ++iy)
            for (int ix = max(ox * stride_w - pad_w, 0); ix < min(ox * stride_w - pad_w + kernel_w, width); ++ix)
                sum += plane[iy * width + ix];
        y[index] = sum / avg_pool_divisor<T>(oy, ox, height, width, kernel_h, kernel_w, stride_h,
                                             stride_w, pad_h, pad_w, count_include_pad,
                                             divisor_override);
    }
}

template <typename T>
__global__ void avg_pool2d_backward(const T* __restrict__ gy, T* __restrict__ gx,
                                    int planes, int height, int width, int out_h, int out_w,
                                    int kernel_h, int kernel_w, int stride_h, int stride_w,
                                    int pad_h, int pad_w, bool count_include_pad,
                                    int divisor_override) {
    // One thread per input pixel: the outputs whose window holds (iy, ix) are
    // oy in [ceil((iy + pad_h - kernel_h + 1) / stride_h), floor((iy + pad_h) / stride_h)].
    const long long total = (long long)planes * height * width;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int ix = index % width;
        const int iy = (index / width) % height;
        const long long p = index / ((long long)width * height);
        const int oy0 = max(0, (iy + pad_h - kernel_h + stride_h) / stride_h);
        const int oy1 = min(out_h - 1, (iy + pad_h) / stride_h);
        const int ox0 = max(0, (ix + pad_w - kernel_w + stride_w) / stride_w);
        const int ox1 = min(out_w - 1, (ix + pad_w) / stride_w);
        T sum = 0;
        for (int oy = oy0; oy <= oy1; ++oy)
            for (int ox = ox0; ox <= ox1; ++ox)
                sum += gy[(p * out_h + oy) * out_w + ox] /
                       avg_pool_divisor<T>(oy, ox, height, width, kernel_h, kernel_w, stride_h,
                                           stride_w, pad_h, pad_w, count_include_pad,
                                           divisor_override);
        gx[index] = sum;
    }
}

// Adaptive pooling: output cell o along an axis of input size n and output size m covers
// [floor(o * n / m), ceil((o + 1) * n / m)), PyTorch's windows.
__device__ inline int adaptive_start(int o, int n, int m) { return (int)(((long long)o * n) / m); }
__device__ inline int adaptive_end(int o, int n, int m) { return (int)((((long long)o + 1) * n + m - 1) / m); }

template <typename T>
__global__ void adaptive_pool2d_forward(const T* __restrict__ x, T* __restrict__ y,
                                        long long* __restrict__ argmax, bool take_max,
                                        int planes, int height, int width, int out_h, int out_w) {
    const long long total = (long long)planes * out_h * out_w;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int ox = index % out_w;
        const int oy = (index / out_w) % out_h;
        const long long p = index / ((long long)out_w * out_h);
        const T* plane = x + p * height * width;
        const int y0 = adaptive_start(oy, height, out_h), y1 = adaptive_end(oy, height, out_h);
        const int x0 = adaptive_start(ox, width, out_w), x1 = adaptive_end(ox, width, out_w);
        T result = take_max ? plane[y0 * width + x0] : T(0);
        long long best_index = (long long)y0 * width + x0;
        for (int iy = y0; iy < y1; ++iy)
            for (int ix = x0; ix < x1; ++ix) {
                const T value = plane[iy * width + ix];
                if (!take_max) result += value;
                else if (value > result || value != value) { result = value; best_index = (long long)iy * width + ix; }
            }
        y[index] = take_max ? result : result / T((y1 - y0) * (x1 - x0));
        if (take_max) argmax[index] = best_index;
    }
}

template <typename T>
__global__ void adaptive_pool2d_backward(const T* __restrict__ gy, const long long* __restrict__ argmax,
                                         T* __restrict__ gx, bool take_max,
                                         int planes, int height, int width, int out_h, int out_w) {
    // One thread per input pixel; the outputs covering row iy are those o with
    // start(o) <= iy < end(o), i.e. o in [floor(iy * m / n), ceil((iy + 1) * m / n)).
    const long long total = (long long)planes * height * width;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int ix = index % width;
        const int iy = (index / width) % height;
        const long long p = index / ((long long)width * height);
        const long long self = (long long)iy * width + ix;
        T sum = 0;
        for (int oy = adaptive_start(iy, out_h, height); oy < adaptive_end(iy, out_h, height); ++oy) {
            const int y0 = adaptive_start(oy, height, out_h), y1 = adaptive_end(oy, height, out_h);
            if (iy < y0 || iy >= y1) continue;
            for (int ox = adaptive_start(ix, out_w, width); ox < adaptive_end(ix, out_w, width); ++ox) {
                const int x0 = adaptive_start(ox, width, out_w), x1 = adaptive_end(ox, width, out_w);
                if (ix < x0 || ix >= x1) continue;
                const long long out = (p * out_h + oy) * out_w + ox;
                if (take_max) { if (argmax[out] == self) sum += gy[out]; }
                else sum += gy[out] / T((y1 - y0) * (x1 - x0));
            }
        }
        gx[index] = sum;
    }
}
