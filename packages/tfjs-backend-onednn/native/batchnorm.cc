// Batch normalisation over the last (channel) axis in one pass each way: tfjs composes the
// forward from 4 and the gradient from about 15 full-size tensor ops.
#include "batchnorm.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common.hpp"

namespace onednn_addon {

namespace {

size_t length_of(const Napi::Value& value, const char* name) {
  if (!value.IsTypedArray()) throw Napi::TypeError::New(value.Env(), std::string(name) + ": expected a Float32Array");
  return value.As<Napi::TypedArray>().ElementLength();
}

constexpr int64_t kParallelThreshold = 1 << 15;

// Per-channel sums over the rows of a [rows, channels] array, two accumulators per channel:
// `visit(row, sums_a, sums_b)` adds one row into float sums. Rows are taken in blocks of 64 whose
// float sums are then added into double totals (fast inner loops, no long float accumulations);
// each thread keeps its own totals, combined in thread order, so results do not depend on timing.
template <typename Visit>
void channel_sums(int64_t rows, int64_t channels, std::vector<double>& a, std::vector<double>& b, Visit visit) {
  constexpr int64_t kBlock = 64;
  const int threads = rows * channels > kParallelThreshold ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads) * 2 * channels, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    double* __restrict da = partial.data() + static_cast<size_t>(t) * 2 * channels;
    double* __restrict db = da + channels;
    std::vector<float> fa(channels), fb(channels);
    const int64_t end = rows * (t + 1) / nt;
    for (int64_t r = rows * t / nt; r < end; r += kBlock) {
      std::fill(fa.begin(), fa.end(), 0.f);
      std::fill(fb.begin(), fb.end(), 0.f);
      for (int64_t q = r; q < std::min(end, r + kBlock); q++) visit(q, fa.data(), fb.data());
      for (int64_t c = 0; c < channels; c++) {
        da[c] += fa[c];
        db[c] += fb[c];
      }
    }
  }
  a.assign(channels, 0.0);
  b.assign(channels, 0.0);
  for (int t = 0; t < threads; t++)
    for (int64_t c = 0; c < channels; c++) {
      a[c] += partial[static_cast<size_t>(t) * 2 * channels + c];
      b[c] += partial[static_cast<size_t>(t) * 2 * channels + channels + c];
    }
}

// out = x * a[c] + b[c] (then max(0, ·) when `relu`) over the rows of a [rows, channels] array.
void scale_shift(const float* x, float* out, int64_t rows, int64_t channels, const std::vector<float>& a,
                 const std::vector<float>& b, bool relu = false) {
#pragma omp parallel for schedule(static) if (rows * channels > kParallelThreshold)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict px = x + r * channels;
    float* __restrict po = out + r * channels;
    if (relu) {
      for (int64_t k = 0; k < channels; k++) po[k] = std::max(px[k] * a[k] + b[k], 0.f);
    } else {
      for (int64_t k = 0; k < channels; k++) po[k] = px[k] * a[k] + b[k];
    }
  }
}

// The forward pass's per-channel scale and shift: y = x * a + b. The fused-ReLU gradient recomputes
// them with the same float operations, so its mask (x * a + b > 0) is exactly the forward's.
void training_scale_shift(const float* scale, const float* offset, const float* mean, const float* variance,
                          float epsilon, size_t c, std::vector<float>& a, std::vector<float>& b) {
  a.resize(c);
  b.resize(c);
  for (size_t k = 0; k < c; k++) {
    a[k] = scale[k] / std::sqrt(variance[k] + epsilon);
    b[k] = offset[k] - mean[k] * a[k];
  }
}

}  // namespace

// batchNormForward(x, mean, variance, scale | null, offset | null, epsilon, out)
Napi::Value BatchNormForward(const Napi::CallbackInfo& info) {
  const size_t n = length_of(info[0], "x");
  const size_t c = length_of(info[1], "mean");
  if (c == 0 || n % c != 0) throw Napi::RangeError::New(info.Env(), "x: size is not a multiple of the channels");
  const float* x = float_data(info[0], n, "x");
  const float* mean = float_data(info[1], c, "mean");
  const float* variance = float_data(info[2], c, "variance");
  const float* scale = optional_float_data(info[3], c, "scale");
  const float* offset = optional_float_data(info[4], c, "offset");
  const float epsilon = info[5].As<Napi::Number>().FloatValue();
  float* out = float_data(info[6], n, "out");
  std::vector<float> a(c), b(c);
  for (size_t k = 0; k < c; k++) {
    a[k] = (scale ? scale[k] : 1.f) / std::sqrt(variance[k] + epsilon);
    b[k] = (offset ? offset[k] : 0.f) - mean[k] * a[k];
  }
  scale_shift(x, out, static_cast<int64_t>(n / c), static_cast<int64_t>(c), a, b);
  return info.Env().Undefined();
}

// batchNormBackward(dy, x, mean, variance, scale | null, epsilon, dx, dMean, dVariance, dScale, dOffset)
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  const size_t n = length_of(info[0], "dy");
  const size_t c = length_of(info[2], "mean");
  if (c == 0 || n % c != 0) throw Napi::RangeError::New(info.Env(), "dy: size is not a multiple of the channels");
  const float* dy = float_data(info[0], n, "dy");
  const float* x = float_data(info[1], n, "x");
  const float* mean = float_data(info[2], c, "mean");
  const float* variance = float_data(info[3], c, "variance");
  const float* scale = optional_float_data(info[4], c, "scale");
  const float epsilon = info[5].As<Napi::Number>().FloatValue();
  float* dx = float_data(info[6], n, "dx");
  float* d_mean = float_data(info[7], c, "dMean");
  float* d_variance = float_data(info[8], c, "dVariance");
  float* d_scale = float_data(info[9], c, "dScale");
  float* d_offset = float_data(info[10], c, "dOffset");

  const int64_t channels = static_cast<int64_t>(c);
  const int64_t rows = static_cast<int64_t>(n / c);
  std::vector<float> inv(c), k(c);
  for (size_t i = 0; i < c; i++) {
    inv[i] = 1.f / std::sqrt(variance[i] + epsilon);
    k[i] = (scale ? scale[i] : 1.f) * inv[i];
  }
  // One pass: dx, and the per-channel sums of dy and dy * (x - mean).
  std::vector<double> sum_dy, sum_dy_xm;
  channel_sums(rows, channels, sum_dy, sum_dy_xm, [&](int64_t r, float* __restrict s1, float* __restrict s2) {
    const float* __restrict pdy = dy + r * channels;
    const float* __restrict px = x + r * channels;
    float* __restrict pdx = dx + r * channels;
    for (int64_t i = 0; i < channels; i++) {
      pdx[i] = pdy[i] * k[i];
      s1[i] += pdy[i];
      s2[i] += pdy[i] * (px[i] - mean[i]);
    }
  });
  for (size_t i = 0; i < c; i++) {
    const double s_dy = sum_dy[i], s_dy_xm = sum_dy_xm[i];
    const double g = scale ? scale[i] : 1.0;
    const double iv = inv[i];
    d_offset[i] = static_cast<float>(s_dy);
    d_scale[i] = static_cast<float>(s_dy_xm * iv);
    d_mean[i] = static_cast<float>(-iv * g * s_dy);
    d_variance[i] = static_cast<float>(-0.5 * iv * iv * iv * g * s_dy_xm);
  }
  return info.Env().Undefined();
}

// batchNormTraining(x, scale, offset, epsilon, y, mean, variance, relu): normalises with the batch's
// own per-channel mean and (biased) variance and returns them, as tfjs-layers' moments + batchNorm
// do; with `relu` true, y is also passed through max(0, ·) in the same pass.
Napi::Value BatchNormTraining(const Napi::CallbackInfo& info) {
  const size_t n = length_of(info[0], "x");
  const size_t c = length_of(info[1], "scale");
  if (c == 0 || n % c != 0) throw Napi::RangeError::New(info.Env(), "x: size is not a multiple of the channels");
  const float* x = float_data(info[0], n, "x");
  const float* scale = float_data(info[1], c, "scale");
  const float* offset = float_data(info[2], c, "offset");
  const float epsilon = info[3].As<Napi::Number>().FloatValue();
  float* y = float_data(info[4], n, "y");
  float* mean = float_data(info[5], c, "mean");
  float* variance = float_data(info[6], c, "variance");
  const bool relu = info[7].ToBoolean().Value();
  const int64_t channels = static_cast<int64_t>(c), rows = static_cast<int64_t>(n / c);

  // One pass over x for both moments, shifted by the first row so that the variance does not
  // suffer the cancellation of E[x^2] - E[x]^2 when the mean is large relative to the spread.
  std::vector<float> shift(x, x + channels);
  std::vector<double> sum, squares;
  channel_sums(rows, channels, sum, squares, [&](int64_t r, float* __restrict s1, float* __restrict s2) {
    const float* __restrict px = x + r * channels;
    for (int64_t k = 0; k < channels; k++) {
      const float d = px[k] - shift[k];
      s1[k] += d;
      s2[k] += d * d;
    }
  });
  std::vector<float> m(c);
  for (size_t k = 0; k < c; k++) {
    const double mean_shifted = sum[k] / static_cast<double>(rows);
    m[k] = static_cast<float>(shift[k] + mean_shifted);
    squares[k] = squares[k] / static_cast<double>(rows) - mean_shifted * mean_shifted;
    if (squares[k] < 0) squares[k] = 0;
  }
  for (size_t k = 0; k < c; k++) {
    mean[k] = m[k];
    variance[k] = static_cast<float>(squares[k]);
  }
  std::vector<float> a, b;
  training_scale_shift(scale, offset, mean, variance, epsilon, c, a, b);
  scale_shift(x, y, rows, channels, a, b, relu);
  return info.Env().Undefined();
}

// batchNormTrainingGrad(dy, x, scale, mean, variance, epsilon, dx, dScale, dOffset, reluOffset | null):
// the gradient through the batch statistics as well (they depend on x). With the forward's offset
// as `reluOffset`, the forward was fused with a ReLU: dy is first masked where x * a + b <= 0, so
// neither the ReLU's output nor its gradient is ever written out.
Napi::Value BatchNormTrainingGrad(const Napi::CallbackInfo& info) {
  const size_t n = length_of(info[0], "dy");
  const size_t c = length_of(info[2], "scale");
  if (c == 0 || n % c != 0) throw Napi::RangeError::New(info.Env(), "dy: size is not a multiple of the channels");
  const float* dy = float_data(info[0], n, "dy");
  const float* x = float_data(info[1], n, "x");
  const float* scale = float_data(info[2], c, "scale");
  const float* mean = float_data(info[3], c, "mean");
  const float* variance = float_data(info[4], c, "variance");
  const float epsilon = info[5].As<Napi::Number>().FloatValue();
  float* dx = float_data(info[6], n, "dx");
  float* d_scale = float_data(info[7], c, "dScale");
  float* d_offset = float_data(info[8], c, "dOffset");
  const float* relu_offset = optional_float_data(info[9], c, "reluOffset");
  const int64_t channels = static_cast<int64_t>(c), rows = static_cast<int64_t>(n / c);
  std::vector<float> a, b;
  if (relu_offset) training_scale_shift(scale, relu_offset, mean, variance, epsilon, c, a, b);
  // Raw pointers, so the compiler sees no aliasing and vectorises the masked loops (a select).
  const float* __restrict pa = a.data();
  const float* __restrict pb = b.data();

  std::vector<double> sum_dy, sum_dy_xm;
  channel_sums(rows, channels, sum_dy, sum_dy_xm, [&](int64_t r, float* __restrict s1, float* __restrict s2) {
    const float* __restrict pdy = dy + r * channels;
    const float* __restrict px = x + r * channels;
    if (relu_offset) {
      // dy where the fused ReLU passed its input, 0 where it did not.
      for (int64_t k = 0; k < channels; k++) {
        const float d = pdy[k];  // loaded unconditionally, so the select vectorises
        const float g = px[k] * pa[k] + pb[k] > 0.f ? d : 0.f;
        s1[k] += g;
        s2[k] += g * (px[k] - mean[k]);
      }
    } else {
      for (int64_t k = 0; k < channels; k++) {
        s1[k] += pdy[k];
        s2[k] += pdy[k] * (px[k] - mean[k]);
      }
    }
  });
  // dx = scale * inv * (dy - mean(dy) - (x - mean) * inv^2 * mean(dy * (x - mean)))
  std::vector<float> k1(c), k2(c), k3(c);
  for (size_t k = 0; k < c; k++) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(variance[k]) + epsilon);
    d_offset[k] = static_cast<float>(sum_dy[k]);
    d_scale[k] = static_cast<float>(sum_dy_xm[k] * inv);
    k1[k] = static_cast<float>(scale[k] * inv);
    k2[k] = static_cast<float>(sum_dy[k] / static_cast<double>(rows));
    k3[k] = static_cast<float>(inv * inv * sum_dy_xm[k] / static_cast<double>(rows));
  }
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(n) > kParallelThreshold)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict pdy = dy + r * channels;
    const float* __restrict px = x + r * channels;
    float* __restrict pdx = dx + r * channels;
    const float* __restrict pk1 = k1.data();
    const float* __restrict pk2 = k2.data();
    const float* __restrict pk3 = k3.data();
    if (relu_offset) {
      for (int64_t k = 0; k < channels; k++) {
        const float d = pdy[k];  // loaded unconditionally, so the select vectorises
        const float g = px[k] * pa[k] + pb[k] > 0.f ? d : 0.f;
        pdx[k] = pk1[k] * (g - pk2[k] - (px[k] - mean[k]) * pk3[k]);
      }
    } else {
      for (int64_t k = 0; k < channels; k++) pdx[k] = pk1[k] * (pdy[k] - pk2[k] - (px[k] - mean[k]) * pk3[k]);
    }
  }
  return info.Env().Undefined();
}

}  // namespace onednn_addon
