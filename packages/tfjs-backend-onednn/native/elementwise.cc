// Memory-bound kernels that dominate a ResNet training step once convolutions are native: broadcast
// binary ops, unary ops, reductions, tile, slice and pad. Plain OpenMP loops over collapsed shapes;
// every kernel handles the common layouts natively and reports the rest so JS falls back to tfjs.
#include "elementwise.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common.hpp"

namespace onednn_addon {

namespace {

using Dims = std::vector<int64_t>;

int64_t product(const Dims& d) {
  int64_t p = 1;
  for (auto v : d) p *= v;
  return p;
}

Dims dims_of(const Napi::Value& value, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + ": expected an Int32Array");
  }
  auto a = value.As<Napi::Int32Array>();
  return Dims(a.Data(), a.Data() + a.ElementLength());
}

// Small work is not worth waking the thread team (a 36 Ki-element multiply took 25 µs on two
// threads and 20 µs on one, so the line is at 128 Ki elements).
constexpr int64_t kParallelThreshold = 1 << 17;

// ---- binary ------------------------------------------------------------------------------------

enum BinaryOp { kAdd = 0, kSub, kMul, kDiv, kMax, kMin, kSquaredDifference, kReluGrad, kSquareGrad };

// Rows of `inner` elements; long rows are cut into chunks so that a same-shape op (one row after
// collapsing) still runs on every thread.
template <typename F>
void binary_rows(const float* a, const float* b, float* out, int64_t rows, int64_t inner, const Dims& outer_dims,
                 const Dims& a_outer_strides, const Dims& b_outer_strides, int64_t a_inner_stride,
                 int64_t b_inner_stride, F f) {
  const int nd = static_cast<int>(outer_dims.size());
  constexpr int64_t kChunk = 1 << 14;
  const int64_t chunks = (inner + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (rows * inner > kParallelThreshold)
  for (int64_t unit = 0; unit < rows * chunks; unit++) {
    const int64_t row = unit / chunks;
    const int64_t begin = (unit % chunks) * kChunk;
    const int64_t end = std::min(inner, begin + kChunk);
    int64_t a_off = 0, b_off = 0, rem = row;
    for (int d = nd - 1; d >= 0; d--) {
      const int64_t idx = rem % outer_dims[d];
      rem /= outer_dims[d];
      a_off += idx * a_outer_strides[d];
      b_off += idx * b_outer_strides[d];
    }
    const float* __restrict pa = a + a_off;
    const float* __restrict pb = b + b_off;
    float* __restrict po = out + row * inner;
    if (a_inner_stride == 1 && b_inner_stride == 1) {
      for (int64_t i = begin; i < end; i++) po[i] = f(pa[i], pb[i]);
    } else if (a_inner_stride == 1) {
      const float vb = pb[0];
      for (int64_t i = begin; i < end; i++) po[i] = f(pa[i], vb);
    } else if (b_inner_stride == 1) {
      const float va = pa[0];
      for (int64_t i = begin; i < end; i++) po[i] = f(va, pb[i]);
    } else {
      const float v = f(pa[0], pb[0]);
      for (int64_t i = begin; i < end; i++) po[i] = v;
    }
  }
}

template <typename F>
void binary_broadcast(const float* a, Dims a_shape, const float* b, Dims b_shape, float* out, const Dims& out_shape,
                      F f) {
  const size_t rank = out_shape.size();
  a_shape.insert(a_shape.begin(), rank - a_shape.size(), 1);
  b_shape.insert(b_shape.begin(), rank - b_shape.size(), 1);
  // Collapse adjacent dims with the same broadcast pattern; drop size-1 output dims.
  Dims dims, a_full, b_full;
  for (size_t i = 0; i < rank; i++) {
    if (out_shape[i] == 1) continue;
    const int64_t af = a_shape[i] != 1, bf = b_shape[i] != 1;
    if (!dims.empty() && a_full.back() == af && b_full.back() == bf) {
      dims.back() *= out_shape[i];
    } else {
      dims.push_back(out_shape[i]);
      a_full.push_back(af);
      b_full.push_back(bf);
    }
  }
  if (dims.empty()) {
    dims = {1};
    a_full = {1};
    b_full = {1};
  }
  // Strides (0 where broadcast) over the collapsed dims.
  const size_t nd = dims.size();
  Dims a_strides(nd), b_strides(nd);
  int64_t as = 1, bs = 1;
  for (size_t i = nd; i-- > 0;) {
    a_strides[i] = a_full[i] ? as : 0;
    b_strides[i] = b_full[i] ? bs : 0;
    if (a_full[i]) as *= dims[i];
    if (b_full[i]) bs *= dims[i];
  }
  const int64_t inner = dims.back();
  Dims outer(dims.begin(), dims.end() - 1), a_outer(a_strides.begin(), a_strides.end() - 1),
      b_outer(b_strides.begin(), b_strides.end() - 1);
  binary_rows(a, b, out, product(outer), inner, outer, a_outer, b_outer, a_strides.back(), b_strides.back(), f);
}

// ---- reductions --------------------------------------------------------------------------------

enum ReduceOp { kSum = 0, kMean, kMaxReduce, kMinReduce };

// out[k1, k2] = reduce_r x[k1, r, k2].
void reduce_krk(const float* x, float* out, int64_t k1, int64_t r, int64_t k2, int op) {
  const bool extremum = op == kMaxReduce || op == kMinReduce;
  const double scale = op == kMean ? 1.0 / static_cast<double>(r) : 1.0;
  if (k2 == 1) {
#pragma omp parallel for schedule(static) if (k1 * r > kParallelThreshold)
    for (int64_t i = 0; i < k1; i++) {
      const float* p = x + i * r;
      if (extremum) {
        float m = p[0];
        for (int64_t j = 1; j < r; j++) m = op == kMaxReduce ? (p[j] > m || std::isnan(p[j]) ? p[j] : m)
                                                             : (p[j] < m || std::isnan(p[j]) ? p[j] : m);
        out[i] = m;
      } else {
        double s = 0;
        for (int64_t j = 0; j < r; j++) s += p[j];
        out[i] = static_cast<float>(s * scale);
      }
    }
    return;
  }
  const int threads = (k1 * r * k2 > kParallelThreshold) ? omp_get_max_threads() : 1;
  // Columns of many outer blocks (a global average pool over a batch): one block per thread at a
  // time, each summed row by row in double, in one parallel region rather than one per block (the
  // same bits for a given thread count, as below).
  if (k1 >= threads && threads > 1) {
#pragma omp parallel num_threads(threads)
    {
      std::vector<double> acc(static_cast<size_t>(k2));
#pragma omp for schedule(static)
      for (int64_t i = 0; i < k1; i++) {
        const float* base = x + i * r * k2;
        float* o = out + i * k2;
        if (extremum) {
          std::memcpy(o, base, sizeof(float) * k2);
          for (int64_t j = 1; j < r; j++) {
            const float* row = base + j * k2;
            for (int64_t c = 0; c < k2; c++)
              o[c] = op == kMaxReduce ? (row[c] > o[c] || std::isnan(row[c]) ? row[c] : o[c])
                                      : (row[c] < o[c] || std::isnan(row[c]) ? row[c] : o[c]);
          }
          continue;
        }
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j = 0; j < r; j++) {
          const float* row = base + j * k2;
          for (int64_t c = 0; c < k2; c++) acc[c] += row[c];
        }
        for (int64_t c = 0; c < k2; c++) o[c] = static_cast<float>(acc[c] * scale);
      }
    }
    return;
  }
  // Columns: split the reduced rows among threads, each with its own partial row, then combine.
  for (int64_t i = 0; i < k1; i++) {
    const float* base = x + i * r * k2;
    std::vector<double> partial(static_cast<size_t>(threads * k2));
    std::vector<float> extreme(static_cast<size_t>(threads * k2));
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
      const int nt = omp_get_num_threads();
      const int64_t begin = r * t / nt, end = r * (t + 1) / nt;
      double* acc = partial.data() + t * k2;
      float* ext = extreme.data() + t * k2;
      if (extremum && begin < end) std::memcpy(ext, base + begin * k2, sizeof(float) * k2);
      for (int64_t j = begin; j < end; j++) {
        const float* row = base + j * k2;
        if (extremum) {
          for (int64_t c = 0; c < k2; c++)
            ext[c] = op == kMaxReduce ? (row[c] > ext[c] || std::isnan(row[c]) ? row[c] : ext[c])
                                      : (row[c] < ext[c] || std::isnan(row[c]) ? row[c] : ext[c]);
        } else {
          for (int64_t c = 0; c < k2; c++) acc[c] += row[c];
        }
      }
    }
    float* o = out + i * k2;
    for (int64_t c = 0; c < k2; c++) {
      if (extremum) {
        float m = extreme[c];
        for (int t = 1; t < threads; t++) {
          const int64_t begin = r * t / threads, end = r * (t + 1) / threads;
          if (begin >= end) continue;
          const float v = extreme[t * k2 + c];
          m = op == kMaxReduce ? (v > m || std::isnan(v) ? v : m) : (v < m || std::isnan(v) ? v : m);
        }
        o[c] = m;
      } else {
        double s = 0;
        for (int t = 0; t < threads; t++) s += partial[t * k2 + c];
        o[c] = static_cast<float>(s * scale);
      }
    }
  }
}

// ---- copies: tile, slice, pad ------------------------------------------------------------------

// Row-major strides of a shape.
Dims strides_of(const Dims& shape) {
  Dims s(shape.size());
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

}  // namespace

// binary(op, a, aShape, b, bShape, out, outShape)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const int op = info[0].As<Napi::Number>().Int32Value();
  Dims a_shape = dims_of(info[2], "aShape"), b_shape = dims_of(info[4], "bShape"), out_shape = dims_of(info[6], "outShape");
  const float* a = float_data(info[1], static_cast<size_t>(product(a_shape)), "a");
  const float* b = float_data(info[3], static_cast<size_t>(product(b_shape)), "b");
  float* out = float_data(info[5], static_cast<size_t>(product(out_shape)), "out");
  switch (op) {
    case kAdd: binary_broadcast(a, a_shape, b, b_shape, out, out_shape, [](float x, float y) { return x + y; }); break;
    case kSub: binary_broadcast(a, a_shape, b, b_shape, out, out_shape, [](float x, float y) { return x - y; }); break;
    case kMul: binary_broadcast(a, a_shape, b, b_shape, out, out_shape, [](float x, float y) { return x * y; }); break;
    case kDiv: binary_broadcast(a, a_shape, b, b_shape, out, out_shape, [](float x, float y) { return x / y; }); break;
    case kMax:
      binary_broadcast(a, a_shape, b, b_shape, out, out_shape,
                       [](float x, float y) { return std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y); });
      break;
    case kMin:
      binary_broadcast(a, a_shape, b, b_shape, out, out_shape,
                       [](float x, float y) { return std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y); });
      break;
    case kSquaredDifference:
      binary_broadcast(a, a_shape, b, b_shape, out, out_shape, [](float x, float y) { return (x - y) * (x - y); });
      break;
    case kReluGrad:  // a = dy, b = relu's input: dy * step(x), NaN where x is NaN (as tfjs)
      binary_broadcast(a, a_shape, b, b_shape, out, out_shape,
                       [](float dy, float x) { return std::isnan(x) ? NAN : (x > 0 ? dy : 0.f); });
      break;
    case kSquareGrad:  // a = dy, b = square's input
      binary_broadcast(a, a_shape, b, b_shape, out, out_shape, [](float dy, float x) { return dy * (2.f * x); });
      break;
    default: throw Napi::RangeError::New(info.Env(), "binary: unknown op");
  }
  return info.Env().Undefined();
}

enum UnaryOp {
  kRelu = 0, kRelu6, kNeg, kSquare, kSqrt, kRsqrt, kExp, kLog, kAbs, kStep, kSigmoid, kTanh, kReciprocal, kElu
};

template <typename F>
void unary_loop(const float* x, float* out, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; i++) out[i] = f(x[i]);
}

// unary(op, x, out, alpha)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const int op = info[0].As<Napi::Number>().Int32Value();
  if (!info[1].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "x: expected a Float32Array");
  const size_t n = info[1].As<Napi::TypedArray>().ElementLength();
  const float* x = float_data(info[1], n, "x");
  float* out = float_data(info[2], n, "out");
  const float alpha = info[3].As<Napi::Number>().FloatValue();
  const auto len = static_cast<int64_t>(n);
  switch (op) {
    case kRelu: unary_loop(x, out, len, [](float v) { return v < 0 ? 0.f : v; }); break;
    case kRelu6: unary_loop(x, out, len, [](float v) { return v < 0 ? 0.f : (v > 6 ? 6.f : v); }); break;
    case kNeg: unary_loop(x, out, len, [](float v) { return -v; }); break;
    case kSquare: unary_loop(x, out, len, [](float v) { return v * v; }); break;
    case kSqrt: unary_loop(x, out, len, [](float v) { return std::sqrt(v); }); break;
    case kRsqrt: unary_loop(x, out, len, [](float v) { return 1.f / std::sqrt(v); }); break;
    case kExp: unary_loop(x, out, len, [](float v) { return std::exp(v); }); break;
    case kLog: unary_loop(x, out, len, [](float v) { return std::log(v); }); break;
    case kAbs: unary_loop(x, out, len, [](float v) { return std::fabs(v); }); break;
    case kStep: unary_loop(x, out, len, [alpha](float v) { return std::isnan(v) ? NAN : (v > 0 ? 1.f : alpha); }); break;
    case kSigmoid: unary_loop(x, out, len, [](float v) { return 1.f / (1.f + std::exp(-v)); }); break;
    case kTanh: unary_loop(x, out, len, [](float v) { return std::tanh(v); }); break;
    case kReciprocal: unary_loop(x, out, len, [](float v) { return 1.f / v; }); break;
    case kElu: unary_loop(x, out, len, [](float v) { return v >= 0 ? v : std::exp(v) - 1.f; }); break;
    default: throw Napi::RangeError::New(info.Env(), "unary: unknown op");
  }
  return info.Env().Undefined();
}

// reduce(op, x, [k1, r, k2], out)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const int op = info[0].As<Napi::Number>().Int32Value();
  Dims krk = dims_of(info[2], "krk");
  if (krk.size() != 3) throw Napi::TypeError::New(info.Env(), "krk: expected [outer, reduced, inner]");
  const float* x = float_data(info[1], static_cast<size_t>(product(krk)), "x");
  float* out = float_data(info[3], static_cast<size_t>(krk[0] * krk[2]), "out");
  reduce_krk(x, out, krk[0], krk[1], krk[2], op);
  return info.Env().Undefined();
}

// tile(x, xShape, out, outShape): out[i] = x[i mod xShape] per dimension.
Napi::Value Tile(const Napi::CallbackInfo& info) {
  Dims in_shape = dims_of(info[1], "xShape"), out_shape = dims_of(info[3], "outShape");
  const float* x = float_data(info[0], static_cast<size_t>(product(in_shape)), "x");
  float* out = float_data(info[2], static_cast<size_t>(product(out_shape)), "out");
  const size_t nd = in_shape.size();
  const Dims in_strides = strides_of(in_shape);
  const int64_t in_inner = in_shape[nd - 1], out_inner = out_shape[nd - 1];
  const int64_t rows = product(out_shape) / out_inner;
#pragma omp parallel for schedule(static) if (rows * out_inner > kParallelThreshold)
  for (int64_t row = 0; row < rows; row++) {
    int64_t rem = row, in_off = 0;
    for (size_t d = nd - 1; d-- > 0;) {
      const int64_t idx = rem % out_shape[d];
      rem /= out_shape[d];
      in_off += (idx % in_shape[d]) * in_strides[d];
    }
    float* po = out + row * out_inner;
    for (int64_t o = 0; o < out_inner; o += in_inner) std::memcpy(po + o, x + in_off, sizeof(float) * in_inner);
  }
  return info.Env().Undefined();
}

// slice(x, xShape, begin, out, size)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  Dims in_shape = dims_of(info[1], "xShape"), begin = dims_of(info[2], "begin"), size = dims_of(info[4], "size");
  const float* x = float_data(info[0], static_cast<size_t>(product(in_shape)), "x");
  float* out = float_data(info[3], static_cast<size_t>(product(size)), "out");
  const size_t nd = in_shape.size();
  const Dims in_strides = strides_of(in_shape);
  const int64_t inner = size[nd - 1];
  const int64_t rows = inner == 0 ? 0 : product(size) / inner;
#pragma omp parallel for schedule(static) if (rows * inner > kParallelThreshold)
  for (int64_t row = 0; row < rows; row++) {
    int64_t rem = row, in_off = begin[nd - 1];
    for (size_t d = nd - 1; d-- > 0;) {
      const int64_t idx = rem % size[d];
      rem /= size[d];
      in_off += (idx + begin[d]) * in_strides[d];
    }
    std::memcpy(out + row * inner, x + in_off, sizeof(float) * inner);
  }
  return info.Env().Undefined();
}

// pad(x, xShape, before, out, outShape, value): one pass over the output rows, each either all
// padding or padding around one copied input row.
Napi::Value Pad(const Napi::CallbackInfo& info) {
  Dims in_shape = dims_of(info[1], "xShape"), before = dims_of(info[2], "before"), out_shape = dims_of(info[4], "outShape");
  const float* x = float_data(info[0], static_cast<size_t>(product(in_shape)), "x");
  float* out = float_data(info[3], static_cast<size_t>(product(out_shape)), "out");
  const float value = info[5].As<Napi::Number>().FloatValue();
  const size_t nd = in_shape.size();
  const Dims in_strides = strides_of(in_shape);
  const int64_t out_inner = out_shape[nd - 1], in_inner = in_shape[nd - 1], lead = before[nd - 1];
  const int64_t rows = out_inner == 0 ? 0 : product(out_shape) / out_inner;
  // Padding only along the last axis (option A's channel padding): output row r is input row r.
  bool last_axis_only = true;
  for (size_t d = 0; d + 1 < nd; d++) last_axis_only = last_axis_only && out_shape[d] == in_shape[d];
  if (last_axis_only) {
#pragma omp parallel for schedule(static) if (rows * out_inner > kParallelThreshold)
    for (int64_t row = 0; row < rows; row++) {
      float* po = out + row * out_inner;
      std::fill(po, po + lead, value);
      std::memcpy(po + lead, x + row * in_inner, sizeof(float) * in_inner);
      std::fill(po + lead + in_inner, po + out_inner, value);
    }
    return info.Env().Undefined();
  }
#pragma omp parallel for schedule(static) if (rows * out_inner > kParallelThreshold)
  for (int64_t row = 0; row < rows; row++) {
    int64_t rem = row, in_off = 0;
    bool inside = true;
    for (size_t d = nd - 1; d-- > 0;) {
      const int64_t idx = rem % out_shape[d] - before[d];
      rem /= out_shape[d];
      if (idx < 0 || idx >= in_shape[d]) inside = false;
      in_off += idx * in_strides[d];
    }
    float* po = out + row * out_inner;
    if (!inside) {
      std::fill(po, po + out_inner, value);
      continue;
    }
    std::fill(po, po + lead, value);
    std::memcpy(po + lead, x + in_off, sizeof(float) * in_inner);
    std::fill(po + lead + in_inner, po + out_inner, value);
  }
  return info.Env().Undefined();
}

Napi::Object ElementwiseOpCodes(Napi::Env env) {
  auto table = [&](std::initializer_list<std::pair<const char*, int>> entries) {
    auto object = Napi::Object::New(env);
    for (const auto& [name, code] : entries) object.Set(name, code);
    return object;
  };
  auto codes = Napi::Object::New(env);
  codes.Set("binary", table({{"add", kAdd},
                             {"sub", kSub},
                             {"mul", kMul},
                             {"div", kDiv},
                             {"max", kMax},
                             {"min", kMin},
                             {"squaredDifference", kSquaredDifference},
                             {"reluGrad", kReluGrad},
                             {"squareGrad", kSquareGrad}}));
  codes.Set("unary", table({{"relu", kRelu},
                            {"relu6", kRelu6},
                            {"neg", kNeg},
                            {"square", kSquare},
                            {"sqrt", kSqrt},
                            {"rsqrt", kRsqrt},
                            {"exp", kExp},
                            {"log", kLog},
                            {"abs", kAbs},
                            {"step", kStep},
                            {"sigmoid", kSigmoid},
                            {"tanh", kTanh},
                            {"reciprocal", kReciprocal},
                            {"elu", kElu}}));
  codes.Set("reduce", table({{"sum", kSum}, {"mean", kMean}, {"max", kMaxReduce}, {"min", kMinReduce}}));
  return codes;
}

}  // namespace onednn_addon
