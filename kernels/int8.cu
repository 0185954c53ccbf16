// Quantized (int8) convolution, linear layer and add: the CUDA twins of
// minicnn/cpu_kernels/int8.py, with the arithmetic of cpu_kernels/reference/int8.py (read
// that first). Activations are uint8 codes x with one zero point x_zp; a layer's weights
// are the integers b[o, k] = w_code[o, k] - w_zp[o]; the output is
//
//     acc[o]  = sum_k (x_k - x_zp) * b[o, k]                  (int32)
//     code[o] = clamp(out_zp + round((acc[o] + bias[o]) * M[o]), low, high)
//
// with M[o] = multiplier[o] * 2^(shift[o] - 31) applied in integers (requantize below).
//
// __dp4a(a, b, c) adds to c the products of the four signed 8-bit lanes of a and b: four
// multiply-adds in one instruction (sm_61 and later). Neither factor fits a signed byte
// as it is (x - x_zp and b both range over up to 511 values), so each is moved into
// [-128, 127] by a constant, and the constants are put back exactly:
//
//     x - x_zp = x' + c,          x' = x - 128 (int8),  c = 128 - x_zp
//     b[o, k]  = w'[o, k] + d[o],  w' int8,              d[o] = 0 if row o fits in int8,
//                                                        else min_k b[o, k] + 128
//
//     acc[o] = sum_k x'_k w'[o, k]  +  d[o] * sum_k x'_k  +  c * sum_k b[o, k]
//              (__dp4a)                (__dp4a with 1s)     (per channel, summed once)
//
// A layer's window (C * kernel_h * kernel_w numbers) is padded to a multiple of 4; padded
// numbers, like the convolution's zero padding, hold x' = x_zp - 128, i.e. x - x_zp = 0, so
// they add nothing whatever their weight (the weight's padding is w' = 0, b = d).
//
// Three kernels, each looping with a grid stride over its work items:
//   int8_im2col                  one thread per byte of columns (N, pixels, window4): x'
//   int8_products_requantized    one thread per output code (n, o, p): the sums above, the
//                                bias, the requantization (and a fused ReLU: low = out_zp)
//   int8_add                     one thread per element: a + b of two scales (TFLite's ADD)
// The linear layer is the convolution of (N, K, 1, 1) inputs with 1x1 windows.

// clamp(zero_point + round(acc * multiplier * 2^(shift - 31)), low, high) in the integer
// steps of reference/int8.py's requantize (gemmlowp's SaturatingRoundingDoublingHighMul
// and RoundingDivideByPOT), in 64-bit integers.
__device__ inline int requantize(long long acc, int multiplier, int shift, int zero_point,
                                 int low, int high) {
    const long long int32_min = -2147483648LL, int32_max = 2147483647LL;
    // A left shift of a negative number is undefined in C++17: shift its bits unsigned
    // (two's complement wraps as NumPy's int64 << does).
    long long shifted = shift > 0 ? (long long)((unsigned long long)acc << shift) : acc;
    shifted = min(max(shifted, int32_min), int32_max);
    // round(shifted * multiplier / 2^31), halves up (-0.5 to 0): a nudge, then C's
    // truncating division.
    long long high_product;
    if (shifted == int32_min && multiplier == int32_min) {
        high_product = int32_max;
    } else {
        const long long product = shifted * multiplier;
        const long long total = product + (product >= 0 ? (1LL << 30) : 1 - (1LL << 30));
        high_product = total >= 0 ? total >> 31 : -((-total) >> 31);
    }
    // round(high_product / 2^right), halves away from zero: the floor given by the
    // arithmetic shift, plus one when the remainder is past half.
    const int right = shift < 0 ? -shift : 0;
    const long long mask = (1LL << right) - 1;
    const long long threshold = (mask >> 1) + (high_product < 0 ? 1 : 0);
    const long long value = (high_product >> right) + ((high_product & mask) > threshold ? 1 : 0);
    return (int)min(max(value + zero_point, (long long)low), (long long)high);
}

__global__ void int8_im2col(const unsigned char* __restrict__ x, signed char* __restrict__ columns,
                            int batch, int channels, int height, int width,
                            int kernel_h, int kernel_w, int stride_h, int stride_w,
                            int pad_h, int pad_w, int dilation_h, int dilation_w,
                            int out_h, int out_w, int window4, int x_zero_point) {
    // columns[n, oy * out_w + ox, (c * kernel_h + i) * kernel_w + j] = x[n, c, iy, ix] - 128
    // with iy = oy * stride_h - pad_h + i * dilation_h (ix likewise); x_zero_point - 128
    // outside the input and past the window (k >= C * kernel_h * kernel_w, up to window4).
    const int window = channels * kernel_h * kernel_w;
    const long long total = (long long)batch * out_h * out_w * window4;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int k = index % window4;
        const long long row = index / window4;          // n * out_h * out_w + pixel
        const int ox = row % out_w;
        const int oy = (row / out_w) % out_h;
        const long long n = row / ((long long)out_w * out_h);
        int code = x_zero_point;
        if (k < window) {
            const int j = k % kernel_w;
            const int i = (k / kernel_w) % kernel_h;
            const int c = k / (kernel_w * kernel_h);
            const int iy = oy * stride_h - pad_h + i * dilation_h;
            const int ix = ox * stride_w - pad_w + j * dilation_w;
            if (iy >= 0 && iy < height && ix >= 0 && ix < width)
                code = x[((n * channels + c) * height + iy) * width + ix];
        }
        columns[index] = (signed char)(code - 128);
    }
}

__global__ void int8_products_requantized(
        const int* __restrict__ columns, const int* __restrict__ weight,
        const int* __restrict__ weight_offset, const long long* __restrict__ weight_sum,
        const int* __restrict__ bias, const int* __restrict__ multiplier,
        const int* __restrict__ shift, unsigned char* __restrict__ out,
        int batch, int out_channels, int pixels, int words, int activation_offset,
        int zero_point, int low, int high) {
    // out[n, o, p] from row (n, p) of columns (N, pixels, words) and row o of weight
    // (O, words), both as packed bytes (4 per int): x' and w' of the header. weight_offset
    // is d (O,), weight_sum is sum_k b[o, k] (O,), activation_offset is c.
    // Thread index = (n * out_channels + o) * pixels + p: neighbouring threads read one
    // weight row and neighbouring column rows.
    const long long total = (long long)batch * out_channels * pixels;
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const int p = index % pixels;
        const int o = (index / pixels) % out_channels;
        const long long n = index / ((long long)pixels * out_channels);
        const int* column = columns + (n * pixels + p) * words;
        const int* row = weight + (long long)o * words;
        int products = 0, column_sum = 0;
        for (int word = 0; word < words; ++word) {
            products = __dp4a(column[word], row[word], products);
            column_sum = __dp4a(column[word], 0x01010101, column_sum);
        }
        // The exact sum, then int32 as the reference's accumulators (it fits there).
        const int acc = (int)(products + (long long)weight_offset[o] * column_sum
                              + (long long)activation_offset * weight_sum[o]);
        out[index] = (unsigned char)requantize((long long)acc + bias[o], multiplier[o], shift[o],
                                               zero_point, low, high);
    }
}

__global__ void int8_add(const unsigned char* __restrict__ a, const unsigned char* __restrict__ b,
                         unsigned char* __restrict__ out, long long size,
                         int a_zero_point, int a_multiplier, int a_shift,
                         int b_zero_point, int b_multiplier, int b_shift,
                         int zero_point, int multiplier, int shift, int low, int high,
                         int left_shift) {
    // out = requantize(A + B) with A = round(((a - a_zero_point) << left_shift) * M_a) and B
    // likewise (reference/int8.py's add): both inputs brought to one scale, then summed.
    const int int32_min = -2147483647 - 1, int32_max = 2147483647;
    const long long lifted = 1LL << left_shift;      // a product: a negative << is undefined
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < size;
         index += (long long)blockDim.x * gridDim.x) {
        const long long a_scaled = requantize((a[index] - a_zero_point) * lifted, a_multiplier,
                                              a_shift, 0, int32_min, int32_max);
        const long long b_scaled = requantize((b[index] - b_zero_point) * lifted, b_multiplier,
                                              b_shift, 0, int32_min, int32_max);
        out[index] = (unsigned char)requantize(a_scaled + b_scaled, multiplier, shift, zero_point,
                                               low, high);
    }
}
