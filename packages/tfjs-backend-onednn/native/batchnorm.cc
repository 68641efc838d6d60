// Batch normalisation over the last (channel) axis in one pass each way: tfjs composes the
// forward from 4 and the gradient from about 15 full-size tensor ops.
//
// Layout of the loops: a [rows, channels] array is walked as flat blocks of `period` floats, a
// multiple of the channel count of at least 256, with every per-channel coefficient tiled to the
// period. ResNet's early stages have 16 or 32 channels, and loops over one row at a time spent more
// time on loop overhead and alias checks than on memory traffic.
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
constexpr int64_t kMinPeriod = 256;

// A [rows, channels] array as flat blocks of `period` floats (whole rows).
struct Blocks {
  int64_t size, channels, period, count;
  Blocks(int64_t size_, int64_t channels_)
      : size(size_),
        channels(channels_),
        period(channels_ * std::max<int64_t>(1, (kMinPeriod + channels_ - 1) / channels_)),
        count((size_ + period - 1) / period) {}
  int64_t start(int64_t block) const { return block * period; }
  int64_t length(int64_t block) const { return std::min(period, size - block * period); }
  int threads() const { return size > kParallelThreshold ? omp_get_max_threads() : 1; }

  // A per-channel vector repeated to the period.
  std::vector<float> tile(const float* values) const {
    std::vector<float> out(static_cast<size_t>(period));
    for (int64_t i = 0; i < period; i++) out[i] = values[i % channels];
    return out;
  }
  std::vector<float> tile(const std::vector<float>& values) const { return tile(values.data()); }
};

// Per-channel sums, two at a time: `visit(start, length, sums_a, sums_b)` adds the elements
// [start, start + length) of one block into float sums indexed by position in the block. Float
// sums are flushed into double totals every 64 blocks; each thread keeps its own totals, combined
// in thread order, so results do not depend on timing. Returns the totals folded to channels.
template <typename Visit>
void channel_sums(const Blocks& blocks, std::vector<double>& a, std::vector<double>& b, Visit visit) {
  constexpr int64_t kFlushEvery = 64;
  const int threads = blocks.threads();
  const int64_t period = blocks.period;
  std::vector<double> partial(static_cast<size_t>(threads) * 2 * period, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    double* __restrict da = partial.data() + static_cast<size_t>(t) * 2 * period;
    double* __restrict db = da + period;
    std::vector<float> fa(period), fb(period);
    const int64_t first = blocks.count * t / nt, end = blocks.count * (t + 1) / nt;
    for (int64_t q = first; q < end; q += kFlushEvery) {
      std::fill(fa.begin(), fa.end(), 0.f);
      std::fill(fb.begin(), fb.end(), 0.f);
      for (int64_t block = q; block < std::min(end, q + kFlushEvery); block++)
        visit(blocks.start(block), blocks.length(block), fa.data(), fb.data());
      for (int64_t i = 0; i < period; i++) {
        da[i] += fa[i];
        db[i] += fb[i];
      }
    }
  }
  a.assign(blocks.channels, 0.0);
  b.assign(blocks.channels, 0.0);
  for (int t = 0; t < threads; t++)
    for (int64_t i = 0; i < period; i++) {
      a[i % blocks.channels] += partial[static_cast<size_t>(t) * 2 * period + i];
      b[i % blocks.channels] += partial[static_cast<size_t>(t) * 2 * period + period + i];
    }
}

// out = x * a[c] + b[c] (then max(0, ·) when `relu`), a and b tiled to the period.
void scale_shift(const Blocks& blocks, const float* x, float* out, const std::vector<float>& a_tiled,
                 const std::vector<float>& b_tiled, bool relu = false) {
  const float* __restrict pa = a_tiled.data();
  const float* __restrict pb = b_tiled.data();
#pragma omp parallel for schedule(static) num_threads(blocks.threads())
  for (int64_t block = 0; block < blocks.count; block++) {
    const float* __restrict px = x + blocks.start(block);
    float* __restrict po = out + blocks.start(block);
    const int64_t length = blocks.length(block);
    if (relu) {
      for (int64_t i = 0; i < length; i++) po[i] = std::max(px[i] * pa[i] + pb[i], 0.f);
    } else {
      for (int64_t i = 0; i < length; i++) po[i] = px[i] * pa[i] + pb[i];
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
  const Blocks blocks(static_cast<int64_t>(n), static_cast<int64_t>(c));
  scale_shift(blocks, x, out, blocks.tile(a), blocks.tile(b));
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

  const Blocks blocks(static_cast<int64_t>(n), static_cast<int64_t>(c));
  std::vector<float> inv(c), k(c);
  for (size_t i = 0; i < c; i++) {
    inv[i] = 1.f / std::sqrt(variance[i] + epsilon);
    k[i] = (scale ? scale[i] : 1.f) * inv[i];
  }
  const std::vector<float> k_tiled = blocks.tile(k), mean_tiled = blocks.tile(mean);
  const float* __restrict pk = k_tiled.data();
  const float* __restrict pm = mean_tiled.data();
  // One pass: dx, and the per-channel sums of dy and dy * (x - mean).
  std::vector<double> sum_dy, sum_dy_xm;
  channel_sums(blocks, sum_dy, sum_dy_xm, [&](int64_t start, int64_t length, float* __restrict s1, float* __restrict s2) {
    const float* __restrict pdy = dy + start;
    const float* __restrict px = x + start;
    float* __restrict pdx = dx + start;
    for (int64_t i = 0; i < length; i++) {
      pdx[i] = pdy[i] * pk[i];
      s1[i] += pdy[i];
      s2[i] += pdy[i] * (px[i] - pm[i]);
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
  const Blocks blocks(static_cast<int64_t>(n), static_cast<int64_t>(c));
  const int64_t rows = static_cast<int64_t>(n / c);

  // One pass over x for both moments, shifted by the first row so that the variance does not
  // suffer the cancellation of E[x^2] - E[x]^2 when the mean is large relative to the spread.
  const std::vector<float> shift_tiled = blocks.tile(x);
  const float* __restrict pshift = shift_tiled.data();
  std::vector<double> sum, squares;
  channel_sums(blocks, sum, squares, [&](int64_t start, int64_t length, float* __restrict s1, float* __restrict s2) {
    const float* __restrict px = x + start;
    for (int64_t i = 0; i < length; i++) {
      const float d = px[i] - pshift[i];
      s1[i] += d;
      s2[i] += d * d;
    }
  });
  for (size_t k = 0; k < c; k++) {
    const double mean_shifted = sum[k] / static_cast<double>(rows);
    mean[k] = static_cast<float>(shift_tiled[k] + mean_shifted);
    const double var = squares[k] / static_cast<double>(rows) - mean_shifted * mean_shifted;
    variance[k] = static_cast<float>(var < 0 ? 0 : var);
  }
  std::vector<float> a, b;
  training_scale_shift(scale, offset, mean, variance, epsilon, c, a, b);
  scale_shift(blocks, x, y, blocks.tile(a), blocks.tile(b), relu);
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
  const Blocks blocks(static_cast<int64_t>(n), static_cast<int64_t>(c));
  const int64_t rows = static_cast<int64_t>(n / c);

  std::vector<float> a(c, 0.f), b(c, 0.f);
  if (relu_offset) training_scale_shift(scale, relu_offset, mean, variance, epsilon, c, a, b);
  const std::vector<float> a_tiled = blocks.tile(a), b_tiled = blocks.tile(b), mean_tiled = blocks.tile(mean);
  const float* __restrict pa = a_tiled.data();
  const float* __restrict pb = b_tiled.data();
  const float* __restrict pm = mean_tiled.data();

  std::vector<double> sum_dy, sum_dy_xm;
  channel_sums(blocks, sum_dy, sum_dy_xm, [&](int64_t start, int64_t length, float* __restrict s1, float* __restrict s2) {
    const float* __restrict pdy = dy + start;
    const float* __restrict px = x + start;
    if (relu_offset) {
      // dy where the fused ReLU passed its input, 0 where it did not.
      for (int64_t i = 0; i < length; i++) {
        const float d = pdy[i];  // loaded unconditionally, so the select vectorises
        const float g = px[i] * pa[i] + pb[i] > 0.f ? d : 0.f;
        s1[i] += g;
        s2[i] += g * (px[i] - pm[i]);
      }
    } else {
      for (int64_t i = 0; i < length; i++) {
        s1[i] += pdy[i];
        s2[i] += pdy[i] * (px[i] - pm[i]);
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
  const std::vector<float> k1_tiled = blocks.tile(k1), k2_tiled = blocks.tile(k2), k3_tiled = blocks.tile(k3);
  const float* __restrict pk1 = k1_tiled.data();
  const float* __restrict pk2 = k2_tiled.data();
  const float* __restrict pk3 = k3_tiled.data();
#pragma omp parallel for schedule(static) num_threads(blocks.threads())
  for (int64_t block = 0; block < blocks.count; block++) {
    const float* __restrict pdy = dy + blocks.start(block);
    const float* __restrict px = x + blocks.start(block);
    float* __restrict pdx = dx + blocks.start(block);
    const int64_t length = blocks.length(block);
    if (relu_offset) {
      for (int64_t i = 0; i < length; i++) {
        const float d = pdy[i];
        const float g = px[i] * pa[i] + pb[i] > 0.f ? d : 0.f;
        pdx[i] = pk1[i] * (g - pk2[i] - (px[i] - pm[i]) * pk3[i]);
      }
    } else {
      for (int64_t i = 0; i < length; i++) pdx[i] = pk1[i] * (pdy[i] - pk2[i] - (px[i] - pm[i]) * pk3[i]);
    }
  }
  return info.Env().Undefined();
}

}  // namespace onednn_addon
