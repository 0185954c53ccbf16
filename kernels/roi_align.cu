// RoIAlign and RoIPool, float and double: the CUDA twins of minicnn/cpu_kernels/roi_align_numba.py
// and of the plain minicnn/cpu_kernels/reference/roi_align.py, whose docstring states the
// definitions (torchvision's semantics). Inputs are x (N, C, H, W) and rois (K, 5) rows
// (n, x0, y0, x1, y1) in double; outputs are (K, C, out_h, out_w). The RoI geometry is in
// double whatever T is, as in the CPU kernels, so all three agree on every sample position.
//
// Forward kernels run one thread per output element k = ((r * C + c) * out_h + i) * out_w + j
// in a grid-stride loop. The backward kernel runs one thread per output-gradient element and
// adds into the input gradient with atomicAdd, since the bins of overlapping RoIs (and the
// two samples of neighbouring bins) read the same pixels.

struct AxisSample {
    // One sample along one axis: the two feature indices it mixes and their weights, or
    // inside = false when the sample lies more than a pixel outside the map (it reads 0).
    bool inside;
    int low, high;
    double w_low, w_high;
};

__device__ inline AxisSample axis_sample(double y, int size) {
    AxisSample s;
    s.inside = !(y < -1.0 || y > size);
    if (!s.inside) {
        s.low = s.high = 0;
        s.w_low = s.w_high = 0.0;
        return s;
    }
    if (y <= 0) y = 0;
    s.low = (int)y;
    if (s.low >= size - 1) {
        s.low = s.high = size - 1;
        y = (double)s.low;
    } else {
        s.high = s.low + 1;
    }
    s.w_high = y - s.low;
    s.w_low = 1.0 - s.w_high;
    return s;
}

struct RoiGeometry {
    int n, grid_h, grid_w;
    double y0, x0, bin_h, bin_w;
};

__device__ inline RoiGeometry roi_geometry(const double* roi, double spatial_scale, int out_h,
                                           int out_w, int sampling_ratio, int aligned) {
    RoiGeometry g;
    const double offset = aligned ? 0.5 : 0.0;
    g.n = (int)roi[0];
    g.x0 = roi[1] * spatial_scale - offset;
    g.y0 = roi[2] * spatial_scale - offset;
    double roi_w = roi[3] * spatial_scale - offset - g.x0;
    double roi_h = roi[4] * spatial_scale - offset - g.y0;
    if (!aligned) {
        roi_w = fmax(roi_w, 1.0);
        roi_h = fmax(roi_h, 1.0);
    }
    g.grid_h = sampling_ratio > 0 ? sampling_ratio : (int)ceil(roi_h / out_h);
    g.grid_w = sampling_ratio > 0 ? sampling_ratio : (int)ceil(roi_w / out_w);
    g.grid_h = max(g.grid_h, 0);
    g.grid_w = max(g.grid_w, 0);
    g.bin_h = roi_h / out_h;
    g.bin_w = roi_w / out_w;
    return g;
}

struct Bin {
    // Output element k = ((r * C + c) * out_h + i) * out_w + j.
    long long roi;
    int channel, i, j;
};

__device__ inline Bin bin_of(long long k, int channels, int out_h, int out_w) {
    Bin b;
    b.j = k % out_w;
    b.i = (k / out_w) % out_h;
    b.channel = (k / ((long long)out_w * out_h)) % channels;
    b.roi = k / ((long long)out_w * out_h * channels);
    return b;
}

template <typename Visit>
__device__ inline void visit_samples(const RoiGeometry& g, int i, int j, int height, int width,
                                     Visit visit) {
    // visit(offset in the plane, weight / (g_h g_w)) for the four neighbours of each of bin
    // (i, j)'s samples that read the map: the forward pass reads them, the backward adds.
    const double share = 1.0 / max(g.grid_h * g.grid_w, 1);
    for (int a = 0; a < g.grid_h; ++a) {
        const AxisSample row = axis_sample(g.y0 + i * g.bin_h + (a + 0.5) * g.bin_h / g.grid_h, height);
        if (!row.inside) continue;
        for (int b = 0; b < g.grid_w; ++b) {
            const AxisSample col = axis_sample(g.x0 + j * g.bin_w + (b + 0.5) * g.bin_w / g.grid_w, width);
            if (!col.inside) continue;
            visit(row.low * width + col.low, row.w_low * col.w_low * share);
            visit(row.low * width + col.high, row.w_low * col.w_high * share);
            visit(row.high * width + col.low, row.w_high * col.w_low * share);
            visit(row.high * width + col.high, row.w_high * col.w_high * share);
        }
    }
}

template <typename T>
__global__ void roi_align_forward(const T* __restrict__ x, const double* __restrict__ rois,
                                  double spatial_scale, int sampling_ratio, int aligned,
                                  T* __restrict__ y, long long roi_count, int channels,
                                  int height, int width, int out_h, int out_w) {
    // y[r, c, i, j] = mean over the g_h x g_w samples of bin (i, j) of their bilinear values.
    const long long total = roi_count * channels * out_h * out_w;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
         k += (long long)blockDim.x * gridDim.x) {
        const Bin bin = bin_of(k, channels, out_h, out_w);
        const RoiGeometry g = roi_geometry(rois + 5 * bin.roi, spatial_scale, out_h, out_w, sampling_ratio, aligned);
        const T* plane = x + ((long long)g.n * channels + bin.channel) * height * width;
        double sum = 0.0;
        visit_samples(g, bin.i, bin.j, height, width,
                      [&](long long at, double weight) { sum += weight * plane[at]; });
        y[k] = T(sum);
    }
}

template <typename T>
__global__ void roi_align_backward(const T* __restrict__ gy, const double* __restrict__ rois,
                                   double spatial_scale, int sampling_ratio, int aligned,
                                   T* __restrict__ gx, long long roi_count, int channels,
                                   int height, int width, int out_h, int out_w) {
    // The adjoint of roi_align_forward: each sample's four pixels of gx[n, c] get
    // gy[r, c, i, j] times their weight / (g_h g_w). gx must be zeroed by the caller.
    const long long total = roi_count * channels * out_h * out_w;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
         k += (long long)blockDim.x * gridDim.x) {
        const Bin bin = bin_of(k, channels, out_h, out_w);
        const RoiGeometry g = roi_geometry(rois + 5 * bin.roi, spatial_scale, out_h, out_w, sampling_ratio, aligned);
        T* plane = gx + ((long long)g.n * channels + bin.channel) * height * width;
        const double gradient = (double)gy[k];
        visit_samples(g, bin.i, bin.j, height, width,
                      [&](long long at, double weight) { atomicAdd(&plane[at], T(weight * gradient)); });
    }
}

__device__ inline int round_half_away(double v) {
    return (int)(v >= 0 ? floor(v + 0.5) : ceil(v - 0.5));
}

template <typename T>
__global__ void roi_pool_forward(const T* __restrict__ x, const double* __restrict__ rois,
                                 double spatial_scale, T* __restrict__ values,
                                 long long* __restrict__ index, long long roi_count, int channels,
                                 int height, int width, int out_h, int out_w) {
    // values[r, c, i, j] = max over bin (i, j) of the rounded RoI, index = h * W + w of the
    // first max in row-major order (a NaN never wins); 0 and -1 for an empty bin.
    const long long total = roi_count * channels * out_h * out_w;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
         k += (long long)blockDim.x * gridDim.x) {
        const Bin bin = bin_of(k, channels, out_h, out_w);
        const int i = bin.i, j = bin.j, c = bin.channel;
        const double* roi = rois + 5 * bin.roi;
        const int x0 = round_half_away(roi[1] * spatial_scale), y0 = round_half_away(roi[2] * spatial_scale);
        const double bin_w = max(round_half_away(roi[3] * spatial_scale) - x0 + 1, 1) / (double)out_w;
        const double bin_h = max(round_half_away(roi[4] * spatial_scale) - y0 + 1, 1) / (double)out_h;
        const int top = min(max((int)floor(i * bin_h) + y0, 0), height);
        const int bottom = min(max((int)ceil((i + 1) * bin_h) + y0, 0), height);
        const int left = min(max((int)floor(j * bin_w) + x0, 0), width);
        const int right = min(max((int)ceil((j + 1) * bin_w) + x0, 0), width);
        const bool empty = bottom <= top || right <= left;
        const T* plane = x + ((long long)roi[0] * channels + c) * height * width;
        T best = empty ? T(0) : T(-3.402823466e+38);      // torchvision's -FLT_MAX
        long long best_at = -1;
        for (int h = top; h < bottom; ++h)
            for (int w = left; w < right; ++w)
                if (plane[h * width + w] > best) {
                    best = plane[h * width + w];
                    best_at = h * width + w;
                }
        values[k] = best;
        index[k] = best_at;
    }
}
