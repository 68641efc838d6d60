// Every kernel the addon exposes. Pointers are device pointers; shapes are row-major.
#pragma once
#include <cmath>
#include <cstdint>

#include "runtime.hpp"

namespace kernels {

enum Activation { kActLinear = 0, kActRelu, kActRelu6, kActLeakyRelu, kActElu, kActSigmoid };

struct ConvShape {
  int64_t n, h, w, c, oh, ow, co, fh, fw, sh, sw, dh, dw, pt, pl;
};
/** A convolution's shape (co = c) and the window's effective (dilated) size. */
struct PoolShape {
  int64_t n, h, w, c, oh, ow, co, fh, fw, sh, sw, dh, dw, pt, pl, efh, efw;
};

/**
 * The output row (or column) whose window meets input row `i` at filter tap `k`, or -1: the one
 * gather that input gradients (col2im, pooling, implicit GEMM) walk instead of scattering.
 */
RT_HD inline int64_t window_output(int64_t i, int64_t k, int64_t pad, int64_t dilation, int64_t stride,
                                   int64_t outputs) {
  const int64_t at = i + pad - k * dilation;
  if (at < 0 || at % stride != 0) return -1;
  const int64_t o = at / stride;
  return o < outputs ? o : -1;
}

// elementwise.cu
void unary(int op, int dtype, const void* x, void* out, int64_t n, float a, float b);
bool unary_supports(int op, int dtype);
void binary(int op, int dtype, const void* a, const rt::Dims& ad, const void* b, const rt::Dims& bd, void* out,
            int out_dtype, const rt::Dims& od);
bool binary_supports(int op, int dtype);
void select(const int32_t* cond, const rt::Dims& cd, const void* a, const void* b, void* out, const rt::Dims& od);
void cast(int from, int to, bool to_bool, const void* x, void* out, int64_t n);
void fill(int dtype, void* out, int64_t n, double value);

// layout.cu (4-byte elements of any type)
void transpose(const void* x, const rt::Dims& xd, const int* perm, void* out);
void strided_slice(const void* x, const rt::Dims& xd, const int64_t* begin, const int64_t* step, void* out,
                   const rt::Dims& od);
void pad(const void* x, const rt::Dims& xd, const int64_t* before, uint32_t value_bits, void* out,
         const rt::Dims& od);
void tile(const void* x, const rt::Dims& xd, void* out, const rt::Dims& od);
void copy_columns(const void* x, int64_t rows, int64_t cols, void* out, int64_t out_cols, int64_t col_offset);
void one_hot(const int32_t* indices, int64_t n, int64_t depth, uint32_t on, uint32_t off, uint32_t* out);
void gather(const void* x, int64_t outer, int64_t axis_size, int64_t inner, const int32_t* indices,
            int64_t num_indices, void* out);

// reduce.cu
void reduce(int op, int dtype, const void* x, int64_t outer, int64_t r, int64_t inner, void* out);
void softmax(const float* x, int64_t rows, int64_t cols, float* out, bool log);

// conv.cu
void conv2d(const float* x, const float* filter, float* y, const ConvShape& s);
void conv2d_backprop_filter(const float* x, const float* dy, float* dw, const ConvShape& s);
void conv2d_backprop_input(const float* dy, const float* filter, float* dx, const ConvShape& s);
void bias_activation(float* y, int64_t rows, int64_t cols, const float* bias, int activation, float alpha);
void matmul(const float* a, const float* b, float* c, int64_t batch_a, int64_t batch_b, int64_t m, int64_t k,
            int64_t n, bool trans_a, bool trans_b);

// pool.cu
void pool(const float* x, const PoolShape& s, bool is_max, float* y);
void pool_grad(const float* dy, const float* x, const PoolShape& s, bool is_max, float* dx);

// norm.cu
void batch_norm_training(const float* x, const float* scale, const float* offset, float epsilon, int64_t rows,
                         int64_t cols, bool relu, float* y, float* mean, float* variance);
void batch_norm_training_grad(const float* dy, const float* x, const float* scale, const float* offset,
                              const float* mean, const float* variance, float epsilon, int64_t rows, int64_t cols,
                              float* dx, float* d_scale, float* d_offset);
void batch_norm_inference(const float* x, int64_t n, const float* mean, int64_t mean_len, const float* variance,
                          int64_t var_len, const float* scale, int64_t scale_len, const float* offset,
                          int64_t offset_len, float epsilon, float* y);
void lrn(const float* x, int64_t rows, int64_t depth, int radius, float bias, float alpha, float beta, float* y);
void lrn_grad(const float* dy, const float* x, const float* y, int64_t rows, int64_t depth, int radius, float bias,
              float alpha, float beta, float* dx);
void sgd_update(const float* param, const float* grad, const float* velocity, int64_t n, float lr, float momentum,
                bool nesterov, float keep, float* param_out, float* velocity_out);

}  // namespace kernels
