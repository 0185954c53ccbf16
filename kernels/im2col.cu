// im2col / col2im for 2-D convolution (NCHW, contiguous), float and double.
//
// A convolution y[n, o, oy, ox] = sum_{c, i, j} w[o, c, i, j] * x[n, c, iy, ix] with
//     iy = oy * stride_h - pad_h + i * dilation_h,   ix = ox * stride_w - pad_w + j * dilation_w
// becomes one matrix product per image once the input patches are unfolded into
//     col[n, (c * kernel_h + i) * kernel_w + j, oy * out_w + ox] = x[n, c, iy, ix]   (0 outside).
// Groups are handled by the caller, which views the channel axis as (groups, C / groups).

template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ col,
                       int batch, int channels, int height, int width,
                       int kernel_h, int kernel_w, int stride_h, int stride_w,
                       int pad_h, int pad_w, int dilation_h, int dilation_w,
                       int out_h, int out_w) {
    // One thread per element of col, whose index decomposes as (n, c, i, j, oy, ox).
    const long long total = (long long)batch * channels * kernel_h * kernel_w * out_h * out_w;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        long long rest = index;
        const int ox = rest % out_w;    rest /= out_w;
        const int oy = rest % out_h;    rest /= out_h;
        const int j = rest % kernel_w;  rest /= kernel_w;
        const int i = rest % kernel_h;  rest /= kernel_h;
        const int c = rest % channels;
        const int n = rest / channels;
        const int iy = oy * stride_h - pad_h + i * dilation_h;
        const int ix = ox * stride_w - pad_w + j * dilation_w;
        const bool inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
        col[index] = inside ? x[(((long long)n * channels + c) * height + iy) * width + ix] : T(0);
    }
}

template <typename T>
__global__ void col2im(const T* __restrict__ col, T* __restrict__ x,
                       int batch, int channels, int height, int width,
                       int kernel_h, int kernel_w, int stride_h, int stride_w,
                       int pad_h, int pad_w, int dilation_h, int dilation_w,
                       int out_h, int out_w) {
    // The adjoint of im2col: every input pixel sums the col entries it was copied into.
    // One thread per input element (n, c, iy, ix) gathers them, so no atomics are needed and
    // the sum order is fixed. Kernel tap (i, j) saw this pixel from output (oy, ox) when
    // iy + pad_h - i * dilation_h is a non-negative multiple of stride_h below out_h * stride_h.
    const long long total = (long long)batch * channels * height * width;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        long long rest = index;
        const int ix = rest % width;    rest /= width;
        const int iy = rest % height;   rest /= height;
        const int c = rest % channels;
        const int n = rest / channels;
        T sum = 0;
        for (int i = 0; i < kernel_h; ++i) {
            const int y_offset = iy + pad_h - i * dilation_h;
            if (y_offset < 0 || y_offset % stride_h != 0) continue;
            const int oy = y_offset / stride_h;
            if (oy >= out_h) continue;
            for (int j = 0; j < kernel_w; ++j) {
                const int x_offset = ix + pad_w - j * dilation_w;
                if (x_offset < 0 || x_offset % stride_w != 0) continue;
                const int ox = x_offset / stride_w;
                if (ox >= out_w) continue;
                const long long row = ((long long)n * channels + c) * kernel_h * kernel_w + i * kernel_w + j;
                sum += col[(row * out_h + oy) * out_w + ox];
            }
        }
        x[index] = sum;
    }
}
