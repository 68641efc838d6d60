// Unary and broadcasting binary element-wise ops, select, cast and fill.
#include <cmath>

#include "kernels.hpp"
#include "ops.hpp"

namespace kernels {
using namespace ops;

namespace {

template <class T>
RT_HD inline T apply_unary(int op, T x, float a, float b) {
  switch (op) {
    case Neg: return -x;
    case Abs: return x < T(0) ? -x : x;
    case Square: return x * x;
    case Sign: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
    case LogicalNot: return x == T(0) ? T(1) : T(0);
    case ClipByValue: return x < T(a) ? T(a) : (x > T(b) ? T(b) : x);
    case Relu: return x > T(0) ? x : T(0);
    default: return x;
  }
}

RT_HD inline float apply_unary_float(int op, float x, float a, float b) {
  switch (op) {
    case Exp: return expf(x);
    case Log: return logf(x);
    case Log1p: return log1pf(x);
    case Expm1: return expm1f(x);
    case Sqrt: return sqrtf(x);
    case Rsqrt: return 1.0f / sqrtf(x);
    case Reciprocal: return 1.0f / x;
    case Relu6: return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    // tfjs's step: alpha below zero, 1 above, and NaN stays NaN.
    case Step: return x != x ? x : (x > 0.0f ? 1.0f : a);
    case Sigmoid: return 1.0f / (1.0f + expf(-x));
    case Tanh: return tanhf(x);
    case Floor: return floorf(x);
    case Ceil: return ceilf(x);
    case Round: return rintf(x);  // half to even, like tfjs
    case Sin: return sinf(x);
    case Cos: return cosf(x);
    case Elu: return x >= 0.0f ? x : expf(x) - 1.0f;
    case Selu: {
      const float scale = 1.0507009873554804934193349852946f, alpha = 1.6732632423543772848170429916717f;
      return x >= 0.0f ? scale * x : scale * alpha * (expf(x) - 1.0f);
    }
    case Softplus: return x > 13.0f ? x : (x < -13.0f ? expf(x) : log1pf(expf(x)));
    case Erf: return erff(x);
    case LeakyRelu: return x < 0.0f ? a * x : x;
    case IsNan: return x != x ? 1.0f : 0.0f;
    case IsInf: return (x == INFINITY || x == -INFINITY) ? 1.0f : 0.0f;
    case IsFinite: return x - x == 0.0f ? 1.0f : 0.0f;  // false for inf and NaN
    default: return apply_unary<float>(op, x, a, b);
  }
}

template <class T>
RT_HD inline T apply_binary(int op, T a, T b) {
  switch (op) {
    case Add: return a + b;
    case Sub: return a - b;
    case Multiply: return a * b;
    case Maximum: return a > b ? a : b;
    case Minimum: return a < b ? a : b;
    case SquaredDifference: return (a - b) * (a - b);
    case Equal: return a == b ? T(1) : T(0);
    case NotEqual: return a != b ? T(1) : T(0);
    case Less: return a < b ? T(1) : T(0);
    case LessEqual: return a <= b ? T(1) : T(0);
    case Greater: return a > b ? T(1) : T(0);
    case GreaterEqual: return a >= b ? T(1) : T(0);
    case LogicalAnd: return (a != T(0) && b != T(0)) ? T(1) : T(0);
    case LogicalOr: return (a != T(0) || b != T(0)) ? T(1) : T(0);
    default: return a;
  }
}

RT_HD inline int32_t apply_binary_int(int op, int32_t a, int32_t b) {
  switch (op) {
    case FloorDiv: {
      if (b == 0) return 0;
      int32_t q = a / b;
      return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
    }
    case Mod: {
      if (b == 0) return 0;
      int32_t r = a % b;
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    }
    default: return apply_binary<int32_t>(op, a, b);
  }
}

RT_HD inline float apply_binary_float(int op, float a, float b) {
  switch (op) {
    case RealDiv: return a / b;
    case Pow: return powf(a, b);
    case FloorDiv: return floorf(a / b);
    case Mod: {
      // tfjs: the remainder takes the divisor's sign.
      float r = fmodf(a, b);
      return ((a < 0.0f && b < 0.0f) || (a >= 0.0f && b >= 0.0f)) ? r : fmodf(r + b, b);
    }
    case Atan2: return atan2f(a, b);
    case Prelu: return a < 0.0f ? a * b : a;
    default: return apply_binary<float>(op, a, b);
  }
}

/** Index of an input element for an output index, with broadcasting (stride 0 on size-1 dims). */
struct Broadcast {
  int rank;
  int64_t out_dims[rt::kMaxRank];
  int64_t strides[rt::kMaxRank];
  RT_HD int64_t index(int64_t out) const {
    int64_t in = 0;
    for (int d = rank - 1; d >= 0; --d) {
      int64_t coord = out % out_dims[d];
      out /= out_dims[d];
      in += coord * strides[d];
    }
    return in;
  }
};

Broadcast make_broadcast(const rt::Dims& in, const rt::Dims& out) {
  Broadcast b{};
  b.rank = out.rank;
  int offset = out.rank - in.rank;
  int64_t stride = 1;
  for (int d = out.rank - 1; d >= 0; --d) {
    b.out_dims[d] = out.d[d];
    int id = d - offset;
    int64_t size = id >= 0 ? in.d[id] : 1;
    b.strides[d] = size == 1 ? 0 : stride;
    stride *= size;
  }
  return b;
}

bool same_dims(const rt::Dims& a, const rt::Dims& b) { return a.size() == b.size(); }

}  // namespace

void unary(int op, int dtype, const void* x, void* out, int64_t n, float a, float b) {
  if (dtype == F32) {
    const float* xs = static_cast<const float*>(x);
    float* ys = static_cast<float*>(out);
    rt::parallel_for(n, [=] RT_HD(int64_t i) { ys[i] = apply_unary_float(op, xs[i], a, b); }, "unary");
  } else {
    const int32_t* xs = static_cast<const int32_t*>(x);
    int32_t* ys = static_cast<int32_t*>(out);
    rt::parallel_for(n, [=] RT_HD(int64_t i) { ys[i] = apply_unary<int32_t>(op, xs[i], a, b); }, "unary");
  }
}

bool unary_supports(int op, int dtype) {
  if (dtype == F32) return op >= 0 && op < kUnaryCount;
  return op == Neg || op == Abs || op == Square || op == Sign || op == LogicalNot || op == ClipByValue ||
         op == Relu;
}

bool binary_supports(int op, int dtype) {
  if (dtype == F32) return op >= 0 && op < kBinaryCount;
  return !(op == RealDiv || op == Pow || op == Atan2 || op == Prelu) && op >= 0 && op < kBinaryCount;
}

template <class T, class O, class F>
static void binary_into(F f, const T* a, const rt::Dims& ad, const T* b, const rt::Dims& bd, O* out,
                        const rt::Dims& od) {
  int64_t n = od.size();
  if (same_dims(ad, od) && same_dims(bd, od)) {
    rt::parallel_for(n, [=] RT_HD(int64_t i) { out[i] = (O)f(a[i], b[i]); }, "binary");
  } else if (bd.size() == 1 && same_dims(ad, od)) {
    rt::parallel_for(n, [=] RT_HD(int64_t i) { out[i] = (O)f(a[i], b[0]); }, "binary");
  } else if (ad.size() == 1 && same_dims(bd, od)) {
    rt::parallel_for(n, [=] RT_HD(int64_t i) { out[i] = (O)f(a[0], b[i]); }, "binary");
  } else {
    Broadcast ba = make_broadcast(ad, od), bb = make_broadcast(bd, od);
    rt::parallel_for(n, [=] RT_HD(int64_t i) { out[i] = (O)f(a[ba.index(i)], b[bb.index(i)]); }, "binary");
  }
}

/** Comparisons of floats write int32 0/1; everything else writes the input type. */
template <class T, class F>
static void binary_typed(F f, const T* a, const rt::Dims& ad, const T* b, const rt::Dims& bd, void* outp,
                         int out_dtype, const rt::Dims& od) {
  if (out_dtype == F32) binary_into(f, a, ad, b, bd, static_cast<float*>(outp), od);
  else binary_into(f, a, ad, b, bd, static_cast<int32_t*>(outp), od);
}

struct FloatBinary {
  int op;
  RT_HD float operator()(float a, float b) const { return apply_binary_float(op, a, b); }
};
struct IntBinary {
  int op;
  RT_HD int32_t operator()(int32_t a, int32_t b) const { return apply_binary_int(op, a, b); }
};

void binary(int op, int dtype, const void* a, const rt::Dims& ad, const void* b, const rt::Dims& bd, void* out,
            int out_dtype, const rt::Dims& od) {
  if (dtype == F32) {
    binary_typed(FloatBinary{op}, static_cast<const float*>(a), ad, static_cast<const float*>(b), bd, out,
                 out_dtype, od);
  } else {
    binary_typed(IntBinary{op}, static_cast<const int32_t*>(a), ad, static_cast<const int32_t*>(b), bd, out,
                 out_dtype, od);
  }
}

void select(const int32_t* cond, const rt::Dims& cd, const void* a, const void* b, void* out, const rt::Dims& od) {
  // Elements are 4 bytes whatever the type: select copies bits.
  const uint32_t* as = static_cast<const uint32_t*>(a);
  const uint32_t* bs = static_cast<const uint32_t*>(b);
  uint32_t* os = static_cast<uint32_t*>(out);
  int64_t n = od.size();
  if (same_dims(cd, od)) {
    rt::parallel_for(n, [=] RT_HD(int64_t i) { os[i] = cond[i] ? as[i] : bs[i]; }, "select");
  } else {
    // tfjs: a rank-1 condition picks whole rows of the outer dimension.
    int64_t inner = n / cd.size();
    rt::parallel_for(n, [=] RT_HD(int64_t i) { os[i] = cond[i / inner] ? as[i] : bs[i]; }, "select");
  }
}

void cast(int from, int to, bool to_bool, const void* x, void* out, int64_t n) {
  if (from == F32 && to == I32) {
    const float* xs = static_cast<const float*>(x);
    int32_t* ys = static_cast<int32_t*>(out);
    if (to_bool) rt::parallel_for(n, [=] RT_HD(int64_t i) { ys[i] = xs[i] != 0.0f ? 1 : 0; }, "cast");
    else rt::parallel_for(n, [=] RT_HD(int64_t i) { ys[i] = (int32_t)xs[i]; }, "cast");
  } else if (from == I32 && to == F32) {
    const int32_t* xs = static_cast<const int32_t*>(x);
    float* ys = static_cast<float*>(out);
    rt::parallel_for(n, [=] RT_HD(int64_t i) { ys[i] = (float)xs[i]; }, "cast");
  } else if (to_bool) {
    const int32_t* xs = static_cast<const int32_t*>(x);
    int32_t* ys = static_cast<int32_t*>(out);
    rt::parallel_for(n, [=] RT_HD(int64_t i) { ys[i] = xs[i] != 0 ? 1 : 0; }, "cast");
  } else {
    rt::copy_device(out, x, (size_t)n * 4);
  }
}

void fill(int dtype, void* out, int64_t n, double value) {
  if (dtype == F32) {
    float v = (float)value;
    float* ys = static_cast<float*>(out);
    rt::parallel_for(n, [=] RT_HD(int64_t i) { ys[i] = v; }, "fill");
  } else {
    int32_t v = (int32_t)value;
    int32_t* ys = static_cast<int32_t*>(out);
    rt::parallel_for(n, [=] RT_HD(int64_t i) { ys[i] = v; }, "fill");
  }
}

}  // namespace kernels
