// 2-D convolutions (NHWC input, HWIO filter) as matrix products, two ways:
// - implicit GEMM (our own kernels): loaders read the image as im2col columns on the fly, so no
//   column buffer is written; the input gradient is itself a product over (kh, kw, co);
// - im2col (cuBLAS, or the im2col engine): columns written in chunks (or the input itself for 1x1
//   stride-1 filters) times the filter; the input gradient gathers its columns back (col2im).
// Every sum has a fixed order, so results are the same bits on every run.
#include "gemm.hpp"
#include "gemm_tiles.cuh"
#include "kernels.hpp"
#include "scratch.hpp"

namespace kernels {

namespace {

bool pointwise(const ConvShape& s) {
  return s.fh == 1 && s.fw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pl == 0 && s.oh == s.h && s.ow == s.w;
}

/** Images per chunk so that one chunk's columns stay within a budget. */
int64_t chunk_images(const ConvShape& s) {
  const int64_t per_image = s.oh * s.ow * s.fh * s.fw * s.c * (int64_t)sizeof(float);
  const int64_t budget = 256LL << 20;
  int64_t nb = per_image > 0 ? budget / per_image : s.n;
  if (nb < 1) nb = 1;
  return nb < s.n ? nb : s.n;
}

void im2col(const float* x, const ConvShape& s, int64_t n0, int64_t nb, float* col) {
  const int64_t kcols = s.fh * s.fw * s.c;
  const ConvShape g = s;
  rt::parallel_for(
      nb * s.oh * s.ow * kcols,
      [=] RT_HD(int64_t i) {
        int64_t kc = i % kcols, row = i / kcols;
        int64_t c = kc % g.c, kw = (kc / g.c) % g.fw, kh = kc / (g.c * g.fw);
        int64_t ow = row % g.ow, oh = (row / g.ow) % g.oh, n = n0 + row / (g.ow * g.oh);
        int64_t ih = oh * g.sh - g.pt + kh * g.dh, iw = ow * g.sw - g.pl + kw * g.dw;
        col[i] = (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) ? 0.0f : x[((n * g.h + ih) * g.w + iw) * g.c + c];
      },
      "im2col");
}

/** Scratch for the columns of images [n0, n0 + count). */
float* column_buffer(const ConvShape& s, int64_t count) {
  const size_t floats = (size_t)(count * s.oh * s.ow * s.fh * s.fw * s.c);
  return static_cast<float*>(scratch::get(scratch::kColumns, floats * 4));
}

/** The im2col columns of images [n0, n0 + count): the input itself for 1x1 stride-1 filters. */
const float* columns(const float* x, const ConvShape& s, int64_t n0, int64_t count) {
  if (pointwise(s)) return x + n0 * s.h * s.w * s.c;
  float* col = column_buffer(s, count);
  im2col(x, s, n0, count, col);
  return col;
}

void col2im(const float* col, const ConvShape& s, int64_t n0, int64_t nb, float* dx) {
  const int64_t kcols = s.fh * s.fw * s.c;
  const ConvShape g = s;
  rt::parallel_for(
      nb * s.h * s.w * s.c,
      [=] RT_HD(int64_t i) {
        int64_t c = i % g.c, w = (i / g.c) % g.w, h = (i / (g.c * g.w)) % g.h, n = i / (g.c * g.w * g.h);
        float sum = 0.0f;
        for (int64_t kh = 0; kh < g.fh; ++kh) {
          const int64_t oh = window_output(h, kh, g.pt, g.dh, g.sh, g.oh);
          if (oh < 0) continue;
          for (int64_t kw = 0; kw < g.fw; ++kw) {
            const int64_t ow = window_output(w, kw, g.pl, g.dw, g.sw, g.ow);
            if (ow < 0) continue;
            sum += col[((n * g.oh + oh) * g.ow + ow) * kcols + (kh * g.fw + kw) * g.c + c];
          }
        }
        dx[(n0 * g.h * g.w * g.c) + i] = sum;
      },
      "col2im");
}

/** A(m, k) of the forward product: the im2col column k of output pixel m, read from x. */
struct Im2colLoader {
  const float* x;
  ConvShape s;
  int64_t rows, cols;
  RT_HD float operator()(int64_t, int64_t m, int64_t k) const {
    if (m >= rows || k >= cols) return 0.0f;
    int64_t c = k % s.c, kw = (k / s.c) % s.fw, kh = k / (s.c * s.fw);
    int64_t ow = m % s.ow, oh = (m / s.ow) % s.oh, n = m / (s.ow * s.oh);
    int64_t ih = oh * s.sh - s.pt + kh * s.dh, iw = ow * s.sw - s.pl + kw * s.dw;
    return (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) ? 0.0f : x[((n * s.h + ih) * s.w + iw) * s.c + c];
  }
  RT_HD bool cols_contiguous() const { return true; }  // consecutive k are consecutive channels
};

/** The transpose of a loader: T(z, r, c) = L(z, c, r). */
template <class L>
struct Transposed {
  L l;
  RT_HD float operator()(int64_t z, int64_t r, int64_t c) const { return l(z, c, r); }
  RT_HD bool cols_contiguous() const { return !l.cols_contiguous(); }
};

/** A(m, k) of the input gradient: dy at the output pixel that input pixel m meets at (kh, kw). */
struct DyLoader {
  const float* dy;
  ConvShape s;
  int64_t rows, cols;
  RT_HD float operator()(int64_t, int64_t m, int64_t k) const {
    if (m >= rows || k >= cols) return 0.0f;
    int64_t co = k % s.co, kw = (k / s.co) % s.fw, kh = k / (s.co * s.fw);
    int64_t w = m % s.w, h = (m / s.w) % s.h, n = m / (s.w * s.h);
    const int64_t oh = window_output(h, kh, s.pt, s.dh, s.sh, s.oh);
    const int64_t ow = window_output(w, kw, s.pl, s.dw, s.sw, s.ow);
    if (oh < 0 || ow < 0) return 0.0f;
    return dy[((n * s.oh + oh) * s.ow + ow) * s.co + co];
  }
  RT_HD bool cols_contiguous() const { return true; }
};

/** B(k, c) of the input gradient: the filter W[kh, kw, c, co] for k = (kh, kw, co). */
struct FilterByOutputLoader {
  const float* w;
  ConvShape s;
  int64_t rows, cols;
  RT_HD float operator()(int64_t, int64_t k, int64_t c) const {
    if (k >= rows || c >= cols) return 0.0f;
    int64_t co = k % s.co, khw = k / s.co;
    return w[(khw * s.c + c) * s.co + co];
  }
  RT_HD bool cols_contiguous() const { return false; }
};

bool implicit() { return !gemm::use_cublas() && gemm::engine() != gemm::kEngineIm2col; }

}  // namespace

void conv2d(const float* x, const float* filter, float* y, const ConvShape& s) {
  if (implicit()) {
    const int64_t rows = s.n * s.oh * s.ow, k = s.fh * s.fw * s.c;
    gemm::run_loaders(Im2colLoader{x, s, rows, k}, gemm::Strided{filter, s.co, 0, false, k, s.co},
                      gemm::Output{y, s.co, 0, 1.0f, 0.0f}, rows, s.co, k, 1);
    return;
  }
  const int64_t kcols = s.fh * s.fw * s.c, rows_per_image = s.oh * s.ow;
  const int64_t nb = chunk_images(s);
  for (int64_t n0 = 0; n0 < s.n; n0 += nb) {
    const int64_t count = n0 + nb <= s.n ? nb : s.n - n0;
    gemm::Args g;
    g.m = count * rows_per_image;
    g.n = s.co;
    g.k = kcols;
    g.a = columns(x, s, n0, count);
    g.lda = kcols;
    g.b = filter;
    g.ldb = s.co;
    g.c = y + n0 * rows_per_image * s.co;
    g.ldc = s.co;
    gemm::run(g);
  }
}

void conv2d_backprop_filter(const float* x, const float* dy, float* dw, const ConvShape& s) {
  if (implicit()) {
    // dW[k, co] = Σ over output pixels m of column(m, k)·dy(m, co): long sums, split over blocks.
    const int64_t rows = s.n * s.oh * s.ow, k = s.fh * s.fw * s.c;
    gemm::run_loaders(Transposed<Im2colLoader>{Im2colLoader{x, s, rows, k}},
                      gemm::Strided{dy, s.co, 0, false, rows, s.co}, gemm::Output{dw, s.co, 0, 1.0f, 0.0f}, k,
                      s.co, rows, 1);
    return;
  }
  const int64_t kcols = s.fh * s.fw * s.c, rows_per_image = s.oh * s.ow;
  const int64_t nb = chunk_images(s);
  for (int64_t n0 = 0; n0 < s.n; n0 += nb) {
    const int64_t count = n0 + nb <= s.n ? nb : s.n - n0;
    gemm::Args g;
    g.trans_a = true;  // dW = colsᵀ · dy
    g.m = kcols;
    g.n = s.co;
    g.k = count * rows_per_image;
    g.a = columns(x, s, n0, count);
    g.lda = kcols;
    g.b = dy + n0 * rows_per_image * s.co;
    g.ldb = s.co;
    g.c = dw;
    g.ldc = s.co;
    g.beta = n0 == 0 ? 0.0f : 1.0f;
    gemm::run(g);
  }
}

void conv2d_backprop_input(const float* dy, const float* filter, float* dx, const ConvShape& s) {
  if (implicit()) {
    const int64_t rows = s.n * s.h * s.w, k = s.fh * s.fw * s.co;
    gemm::run_loaders(DyLoader{dy, s, rows, k}, FilterByOutputLoader{filter, s, k, s.c},
                      gemm::Output{dx, s.c, 0, 1.0f, 0.0f}, rows, s.c, k, 1);
    return;
  }
  const int64_t kcols = s.fh * s.fw * s.c, rows_per_image = s.oh * s.ow;
  const int64_t nb = chunk_images(s);
  for (int64_t n0 = 0; n0 < s.n; n0 += nb) {
    const int64_t count = n0 + nb <= s.n ? nb : s.n - n0;
    gemm::Args g;
    g.trans_b = true;  // dcols = dy · Wᵀ
    g.m = count * rows_per_image;
    g.n = kcols;
    g.k = s.co;
    g.a = dy + n0 * rows_per_image * s.co;
    g.lda = s.co;
    g.b = filter;
    g.ldb = s.co;
    g.ldc = kcols;
    if (pointwise(s)) {
      g.c = dx + n0 * s.h * s.w * s.c;
      gemm::run(g);
    } else {
      float* col = column_buffer(s, count);
      g.c = col;
      gemm::run(g);
      col2im(col, s, n0, count, dx);
    }
  }
}

void bias_activation(float* y, int64_t rows, int64_t cols, const float* bias, int activation, float alpha) {
  rt::parallel_for(
      rows * cols,
      [=] RT_HD(int64_t i) {
        float v = y[i] + (bias ? bias[i % cols] : 0.0f);
        switch (activation) {
          case kActRelu: v = v > 0.0f ? v : 0.0f; break;
          case kActRelu6: v = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); break;
          case kActLeakyRelu: v = v < 0.0f ? alpha * v : v; break;
          case kActElu: v = v >= 0.0f ? v : expf(v) - 1.0f; break;
          case kActSigmoid: v = 1.0f / (1.0f + expf(-v)); break;
          default: break;
        }
        y[i] = v;
      },
      "biasActivation");
}

void matmul(const float* a, const float* b, float* c, int64_t batch_a, int64_t batch_b, int64_t m, int64_t k,
            int64_t n, bool trans_a, bool trans_b) {
  gemm::Args g;
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a;
  g.lda = trans_a ? m : k;
  g.stride_a = batch_a == 1 ? 0 : m * k;
  g.b = b;
  g.ldb = trans_b ? k : n;
  g.stride_b = batch_b == 1 ? 0 : k * n;
  g.c = c;
  g.ldc = n;
  g.stride_c = m * n;
  g.batch = batch_a > batch_b ? batch_a : batch_b;
  gemm::run(g);
}

}  // namespace kernels
