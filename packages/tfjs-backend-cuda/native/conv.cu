// 2-D convolutions (NHWC input, HWIO filter) as matrix products: im2col (or the input itself for
// 1x1 stride-1 filters) times the filter; the input gradient gathers its columns back (col2im),
// which keeps every sum in a fixed order, so results are the same bits on every run.
#include "gemm.hpp"
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

void col2im(const float* col, const ConvShape& s, int64_t n0, int64_t nb, float* dx) {
  const int64_t kcols = s.fh * s.fw * s.c;
  const ConvShape g = s;
  rt::parallel_for(
      nb * s.h * s.w * s.c,
      [=] RT_HD(int64_t i) {
        int64_t c = i % g.c, w = (i / g.c) % g.w, h = (i / (g.c * g.w)) % g.h, n = i / (g.c * g.w * g.h);
        float sum = 0.0f;
        for (int64_t kh = 0; kh < g.fh; ++kh) {
          int64_t ih = h + g.pt - kh * g.dh;
          if (ih < 0 || ih % g.sh != 0) continue;
          int64_t oh = ih / g.sh;
          if (oh >= g.oh) continue;
          for (int64_t kw = 0; kw < g.fw; ++kw) {
            int64_t iw = w + g.pl - kw * g.dw;
            if (iw < 0 || iw % g.sw != 0) continue;
            int64_t ow = iw / g.sw;
            if (ow >= g.ow) continue;
            sum += col[((n * g.oh + oh) * g.ow + ow) * kcols + (kh * g.fw + kw) * g.c + c];
          }
        }
        dx[(n0 * g.h * g.w * g.c) + i] = sum;
      },
      "col2im");
}

}  // namespace

void conv2d(const float* x, const float* filter, float* y, const ConvShape& s) {
  const int64_t kcols = s.fh * s.fw * s.c, rows_per_image = s.oh * s.ow;
  const int64_t nb = chunk_images(s);
  for (int64_t n0 = 0; n0 < s.n; n0 += nb) {
    const int64_t count = n0 + nb <= s.n ? nb : s.n - n0;
    gemm::Args g;
    g.m = count * rows_per_image;
    g.n = s.co;
    g.k = kcols;
    if (pointwise(s)) {
      g.a = x + n0 * s.h * s.w * s.c;
    } else {
      float* col = static_cast<float*>(scratch::get(scratch::kColumns, (size_t)(count * rows_per_image * kcols) * 4));
      im2col(x, s, n0, count, col);
      g.a = col;
    }
    g.lda = kcols;
    g.b = filter;
    g.ldb = s.co;
    g.c = y + n0 * rows_per_image * s.co;
    g.ldc = s.co;
    gemm::run(g);
  }
}

void conv2d_backprop_filter(const float* x, const float* dy, float* dw, const ConvShape& s) {
  const int64_t kcols = s.fh * s.fw * s.c, rows_per_image = s.oh * s.ow;
  const int64_t nb = chunk_images(s);
  for (int64_t n0 = 0; n0 < s.n; n0 += nb) {
    const int64_t count = n0 + nb <= s.n ? nb : s.n - n0;
    gemm::Args g;
    g.trans_a = true;  // dW = colsᵀ · dy
    g.m = kcols;
    g.n = s.co;
    g.k = count * rows_per_image;
    if (pointwise(s)) {
      g.a = x + n0 * s.h * s.w * s.c;
    } else {
      float* col = static_cast<float*>(scratch::get(scratch::kColumns, (size_t)(count * rows_per_image * kcols) * 4));
      im2col(x, s, n0, count, col);
      g.a = col;
    }
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
      float* col = static_cast<float*>(scratch::get(scratch::kColumns, (size_t)(count * rows_per_image * kcols) * 4));
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
