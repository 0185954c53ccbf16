// Nearest and bilinear upsampling of NCHW planes, float and double.
//
// The caller passes the source-coordinate scales exactly as PyTorch computes them:
// scale = in / out (or 1 / scale_factor when a scale factor was given), and for bilinear
// with align_corners=True, scale = (in - 1) / (out - 1).
// Backward passes scatter with atomicAdd: several outputs read the same input pixel, and
// which ones is a floating-point question that a gather could only answer approximately.

template <typename T>
__global__ void upsample_nearest2d_forward(const T* __restrict__ x, T* __restrict__ y,
                                           int planes, int height, int width, int out_h, int out_w,
                                           float scale_h, float scale_w) {
    // y[p, oy, ox] = x[p, min(floor(oy * scale_h), height - 1), min(floor(ox * scale_w), width - 1)]
    const long long total = (long long)planes * out_h * out_w;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int ox = index % out_w;
        const int oy = (index / out_w) % out_h;
        const long long p = index / ((long long)out_w * out_h);
        const int iy = min((int)floorf(oy * scale_h), height - 1);
        const int ix = min((int)floorf(ox * scale_w), width - 1);
        y[index] = x[(p * height + iy) * width + ix];
    }
}

template <typename T>
__global__ void upsample_nearest2d_backward(const T* __restrict__ gy, T* __restrict__ gx,
                                            int planes, int height, int width, int out_h, int out_w,
                                            float scale_h, float scale_w) {
    // gx must be zeroed by the caller; each output adds its gradient to the pixel it copied.
    const long long total = (long long)planes * out_h * out_w;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int ox = index % out_w;
        const int oy = (index / out_w) % out_h;
        const long long p = index / ((long long)out_w * out_h);
        const int iy = min((int)floorf(oy * scale_h), height - 1);
        const int ix = min((int)floorf(ox * scale_w), width - 1);
        atomicAdd(&gx[(p * height + iy) * width + ix], gy[index]);
    }
}

__device__ inline void bilinear_source(int o, float scale, bool align_corners, int size,
                                       int* lower, int* upper, float* weight_upper) {
    // Source coordinate of output o: o * scale with corners aligned, otherwise
    // (o + 0.5) * scale - 0.5 clamped at 0 (PyTorch's half-pixel convention).
    float source = align_corners ? o * scale : fmaxf((o + 0.5f) * scale - 0.5f, 0.0f);
    *lower = min((int)source, size - 1);
    *upper = min(*lower + 1, size - 1);
    *weight_upper = source - *lower;
}

template <typename T>
__global__ void upsample_bilinear2d_forward(const T* __restrict__ x, T* __restrict__ y,
                                            int planes, int height, int width, int out_h, int out_w,
                                            float scale_h, float scale_w, bool align_corners) {
    const long long total = (long long)planes * out_h * out_w;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int ox = index % out_w;
        const int oy = (index / out_w) % out_h;
        const long long p = index / ((long long)out_w * out_h);
        int y0, y1, x0, x1;
        float wy, wx;
        bilinear_source(oy, scale_h, align_corners, height, &y0, &y1, &wy);
        bilinear_source(ox, scale_w, align_corners, width, &x0, &x1, &wx);
        const T* plane = x + p * height * width;
        y[index] = T(1 - wy) * (T(1 - wx) * plane[y0 * width + x0] + T(wx) * plane[y0 * width + x1])
                 + T(wy) * (T(1 - wx) * plane[y1 * width + x0] + T(wx) * plane[y1 * width + x1]);
    }
}

template <typename T>
__global__ void upsample_bilinear2d_backward(const T* __restrict__ gy, T* __restrict__ gx,
                                             int planes, int height, int width, int out_h, int out_w,
                                             float scale_h, float scale_w, bool align_corners) {
    // gx must be zeroed by the caller; each output spreads its gradient over its 4 sources
    // with the same weights the forward pass used.
    const long long total = (long long)planes * out_h * out_w;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int ox = index % out_w;
        const int oy = (index / out_w) % out_h;
        const long long p = index / ((long long)out_w * out_h);
        int y0, y1, x0, x1;
        float wy, wx;
        bilinear_source(oy, scale_h, align_corners, height, &y0, &y1, &wy);
        bilinear_source(ox, scale_w, align_corners, width, &x0, &x1, &wx);
        T* plane = gx + p * height * width;
        const T g = gy[index];
        atomicAdd(&plane[y0 * width + x0], g * T(1 - wy) * T(1 - wx));
        atomicAdd(&plane[y0 * width + x1], g * T(1 - wy) * T(wx));
        atomicAdd(&plane[y1 * width + x0], g * T(wy) * T(1 - wx));
        atomicAdd(&plane[y1 * width + x1], g * T(wy) * T(wx));
    }
}
