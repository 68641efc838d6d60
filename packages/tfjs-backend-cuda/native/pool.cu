// Max and average pooling (NHWC) and their gradients, with tfjs's CPU semantics: windows clipped
// to the image, averages over the pixels inside it, the first maximum of a window takes its
// gradient, and the average's gradient is spread over the full filter size.
#include "kernels.hpp"

namespace kernels {

namespace {
struct Window {
  int64_t h0, h1, w0, w1;  // [h0, h1) x [w0, w1), clipped to the image
};
RT_HD inline Window window_of(const PoolShape& s, int64_t oh, int64_t ow) {
  int64_t hc = oh * s.sh - s.pt, wc = ow * s.sw - s.pl;
  Window win;
  win.h0 = hc < 0 ? 0 : hc;
  win.h1 = hc + s.efh < s.h ? hc + s.efh : s.h;
  win.w0 = wc < 0 ? 0 : wc;
  win.w1 = wc + s.efw < s.w ? wc + s.efw : s.w;
  return win;
}
/** Flat (h, w) of a window's first maximum, or -1 when none beats -infinity. */
RT_HD inline int64_t argmax_of(const float* x, const PoolShape& s, int64_t n, int64_t c, const Window& win) {
  float best = -INFINITY;
  int64_t at = -1;
  for (int64_t h = win.h0; h < win.h1; h += s.dh)
    for (int64_t w = win.w0; w < win.w1; w += s.dw) {
      float v = x[((n * s.h + h) * s.w + w) * s.c + c];
      if (v > best) {
        best = v;
        at = h * s.w + w;
      }
    }
  return at;
}
}  // namespace

void pool(const float* x, const PoolShape& s, bool is_max, float* y) {
  const PoolShape g = s;
  rt::parallel_for(
      s.n * s.oh * s.ow * s.c,
      [=] RT_HD(int64_t i) {
        int64_t c = i % g.c, ow = (i / g.c) % g.ow, oh = (i / (g.c * g.ow)) % g.oh, n = i / (g.c * g.ow * g.oh);
        Window win = window_of(g, oh, ow);
        float acc = is_max ? -INFINITY : 0.0f;
        int64_t count = 0;
        for (int64_t h = win.h0; h < win.h1; h += g.dh)
          for (int64_t w = win.w0; w < win.w1; w += g.dw) {
            float v = x[((n * g.h + h) * g.w + w) * g.c + c];
            if (is_max) acc = v > acc ? v : acc;
            else acc += v;
            ++count;
          }
        y[i] = is_max ? acc : acc / (float)count;
      },
      "pool");
}

void pool_grad(const float* dy, const float* x, const PoolShape& s, bool is_max, float* dx) {
  const PoolShape g = s;
  const float avg_scale = 1.0f / (float)(s.fh * s.fw);
  rt::parallel_for(
      s.n * s.h * s.w * s.c,
      [=] RT_HD(int64_t i) {
        int64_t c = i % g.c, w = (i / g.c) % g.w, h = (i / (g.c * g.w)) % g.h, n = i / (g.c * g.w * g.h);
        float sum = 0.0f;
        // Every output whose window holds (h, w).
        for (int64_t kh = 0; kh < g.fh; ++kh) {
          const int64_t oh = window_output(h, kh, g.pt, g.dh, g.sh, g.oh);
          if (oh < 0) continue;
          for (int64_t kw = 0; kw < g.fw; ++kw) {
            const int64_t ow = window_output(w, kw, g.pl, g.dw, g.sw, g.ow);
            if (ow < 0) continue;
            float d = dy[((n * g.oh + oh) * g.ow + ow) * g.c + c];
            if (is_max) {
              if (argmax_of(x, g, n, c, window_of(g, oh, ow)) == h * g.w + w) sum += d;
            } else {
              sum += d * avg_scale;
            }
          }
        }
        dx[i] = sum;
      },
      "poolGrad");
}

}  // namespace kernels
