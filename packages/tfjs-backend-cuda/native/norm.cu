// Batch norm: training forward and backward (optionally fused with the ReLU that follows) over
// the last axis of NHWC activations, and the inference form tfjs calls FusedBatchNorm.
#include "kernels.hpp"
#include "scratch.hpp"

namespace kernels {

namespace {

constexpr int64_t kRowsPerChunk = 256;

/**
 * Per-column sums of value(r, c) over rows, in a fixed order: partial sums over chunks of rows
 * (adjacent threads take adjacent columns, so reads are coalesced), then the sum of the chunks.
 */
template <int K, class F>
void column_sums(int64_t rows, int64_t cols, F value, float* const* outs, float scale) {
  const int64_t chunks = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
  float* partial = static_cast<float*>(scratch::get(scratch::kStats, (size_t)(chunks * cols * K) * 4));
  rt::parallel_for(
      chunks * cols,
      [=] RT_HD(int64_t i) {
        int64_t c = i % cols, chunk = i / cols;
        int64_t end = (chunk + 1) * kRowsPerChunk < rows ? (chunk + 1) * kRowsPerChunk : rows;
        float acc[K] = {};
        for (int64_t r = chunk * kRowsPerChunk; r < end; ++r) value(r, c, acc);
        for (int k = 0; k < K; ++k) partial[(k * chunks + chunk) * cols + c] = acc[k];
      },
      "columnSums(partial)");
  float* o0 = outs[0];
  float* o1 = K > 1 ? outs[1] : nullptr;
  rt::parallel_for(
      cols,
      [=] RT_HD(int64_t c) {
        for (int k = 0; k < K; ++k) {
          float acc = 0.0f;
          for (int64_t chunk = 0; chunk < chunks; ++chunk) acc += partial[(k * chunks + chunk) * cols + c];
          (k == 0 ? o0 : o1)[c] = acc * scale;
        }
      },
      "columnSums(final)");
}

}  // namespace

void batch_norm_training(const float* x, const float* scale, const float* offset, float epsilon, int64_t rows,
                         int64_t cols, bool relu, float* y, float* mean, float* variance) {
  const float inv_rows = 1.0f / (float)rows;
  float* mean_out[1] = {mean};
  column_sums<1>(
      rows, cols, [=] RT_HD(int64_t r, int64_t c, float* acc) { acc[0] += x[r * cols + c]; }, mean_out, inv_rows);
  const float* m = mean;
  float* var_out[1] = {variance};
  column_sums<1>(
      rows, cols,
      [=] RT_HD(int64_t r, int64_t c, float* acc) {
        float d = x[r * cols + c] - m[c];
        acc[0] += d * d;
      },
      var_out, inv_rows);
  const float* v = variance;
  rt::parallel_for(
      rows * cols,
      [=] RT_HD(int64_t i) {
        int64_t c = i % cols;
        float out = offset[c] + (x[i] - m[c]) * scale[c] / sqrtf(v[c] + epsilon);
        y[i] = relu && out < 0.0f ? 0.0f : out;
      },
      "batchNormTraining");
}

void batch_norm_training_grad(const float* dy, const float* x, const float* scale, const float* offset,
                              const float* mean, const float* variance, float epsilon, int64_t rows, int64_t cols,
                              float* dx, float* d_scale, float* d_offset) {
  // With the ReLU fused, its mask is recomputed from x: the forward output was not kept.
  const bool relu = offset != nullptr;
  float* sums[2] = {d_offset, d_scale};
  column_sums<2>(
      rows, cols,
      [=] RT_HD(int64_t r, int64_t c, float* acc) {
        int64_t i = r * cols + c;
        float rstd = 1.0f / sqrtf(variance[c] + epsilon);
        float xhat = (x[i] - mean[c]) * rstd;
        float g = dy[i];
        if (relu && offset[c] + xhat * scale[c] <= 0.0f) g = 0.0f;
        acc[0] += g;
        acc[1] += g * xhat;
      },
      sums, 1.0f);
  const float inv_rows = 1.0f / (float)rows;
  const float* so = d_offset;
  const float* ss = d_scale;
  rt::parallel_for(
      rows * cols,
      [=] RT_HD(int64_t i) {
        int64_t c = i % cols;
        float rstd = 1.0f / sqrtf(variance[c] + epsilon);
        float xhat = (x[i] - mean[c]) * rstd;
        float g = dy[i];
        if (relu && offset[c] + xhat * scale[c] <= 0.0f) g = 0.0f;
        dx[i] = scale[c] * rstd * (g - so[c] * inv_rows - xhat * ss[c] * inv_rows);
      },
      "batchNormTrainingGrad");
}

void batch_norm_inference(const float* x, int64_t n, const float* mean, int64_t mean_len, const float* variance,
                          int64_t var_len, const float* scale, int64_t scale_len, const float* offset,
                          int64_t offset_len, float epsilon, float* y) {
  rt::parallel_for(
      n,
      [=] RT_HD(int64_t i) {
        float s = scale ? scale[i % scale_len] : 1.0f;
        float o = offset ? offset[i % offset_len] : 0.0f;
        y[i] = o + (x[i] - mean[i % mean_len]) * s / sqrtf(variance[i % var_len] + epsilon);
      },
      "batchNorm");
}

void lrn(const float* x, int64_t rows, int64_t depth, int radius, float bias, float alpha, float beta, float* y) {
  rt::parallel_for(
      rows * depth,
      [=] RT_HD(int64_t i) {
        int64_t d = i % depth, base = i - d;
        int64_t lo = d - radius < 0 ? 0 : d - radius, hi = d + radius + 1 < depth ? d + radius + 1 : depth;
        float sum = 0.0f;
        for (int64_t j = lo; j < hi; ++j) sum += x[base + j] * x[base + j];
        y[i] = x[i] * powf(bias + alpha * sum, -beta);
      },
      "lrn");
}

void lrn_grad(const float* dy, const float* x, const float* y, int64_t rows, int64_t depth, int radius, float bias,
              float alpha, float beta, float* dx) {
  // tfjs's LRNGrad: dx[i] = Σ_k over windows containing i of dy[k]·(δ(i,k)·norm_k^-β − 2αβ·x_i·y_k/norm_k).
  rt::parallel_for(
      rows * depth,
      [=] RT_HD(int64_t i) {
        int64_t d = i % depth, base = i - d;
        int64_t lo = d - radius < 0 ? 0 : d - radius, hi = d + radius + 1 < depth ? d + radius + 1 : depth;
        float result = 0.0f;
        for (int64_t k = lo; k < hi; ++k) {
          int64_t klo = k - radius < 0 ? 0 : k - radius, khi = k + radius + 1 < depth ? k + radius + 1 : depth;
          float norm = 0.0f;
          for (int64_t j = klo; j < khi; ++j) norm += x[base + j] * x[base + j];
          norm = alpha * norm + bias;
          float dyi = -2.0f * alpha * beta * x[i] * y[base + k] / norm;
          if (k == d) dyi += powf(norm, -beta);
          result += dyi * dy[base + k];
        }
        dx[i] = result;
      },
      "lrnGrad");
}

void sgd_update(const float* param, const float* grad, const float* velocity, int64_t n, float lr, float momentum,
                bool nesterov, float keep, float* param_out, float* velocity_out) {
  // Plain multiplies and adds, never fused, so each step rounds as tfjs's op chain does.
  rt::parallel_for(
      n,
      [=] RT_HD(int64_t i) {
        float g = grad[i], d = g;
        if (velocity) {
          float v = rt::fadd(rt::fmul(velocity[i], momentum), g);
          velocity_out[i] = v;
          d = nesterov ? rt::fadd(g, rt::fmul(v, momentum)) : v;
        }
        param_out[i] = rt::fsub(rt::fmul(param[i], keep), rt::fmul(d, lr));
      },
      "sgdUpdate");
}

}  // namespace kernels
