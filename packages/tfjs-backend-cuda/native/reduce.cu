// Reductions over the middle axis of [outer, reduce, inner], softmax over the last axis.
#include <cfloat>

#include "kernels.hpp"
#include "ops.hpp"
#include "scratch.hpp"

namespace kernels {
using namespace ops;

namespace {

template <class T>
struct Limits;
template <>
struct Limits<float> {
  RT_HD static float lowest() { return -INFINITY; }
  RT_HD static float highest() { return INFINITY; }
};
template <>
struct Limits<int32_t> {
  RT_HD static int32_t lowest() { return -2147483647 - 1; }
  RT_HD static int32_t highest() { return 2147483647; }
};

template <class T>
RT_HD inline T identity_of(int op) {
  switch (op) {
    case Max: return Limits<T>::lowest();
    case Min: return Limits<T>::highest();
    case Prod: case All: return T(1);
    default: return T(0);
  }
}

template <class T>
RT_HD inline T combine(int op, T acc, T v) {
  switch (op) {
    case Max: return (v > acc || v != v) ? v : acc;  // NaN wins, as in tfjs
    case Min: return (v < acc || v != v) ? v : acc;
    case Prod: return acc * v;
    case All: return (acc != T(0) && v != T(0)) ? T(1) : T(0);
    case Any: return (acc != T(0) || v != T(0)) ? T(1) : T(0);
    default: return acc + v;
  }
}

template <class T>
void reduce_typed(int op, const T* x, int64_t outer, int64_t r, int64_t inner, T* out) {
  const int base = op == Mean ? Sum : op;
  const int64_t outputs = outer * inner;
  // Few outputs over a long axis: split the axis into chunks (deterministic two passes) so the
  // GPU has enough threads; otherwise one thread per output walks its axis.
  const int64_t chunk = 256;
  if (outputs < 16384 && r >= 4 * chunk) {
    const int64_t chunks = (r + chunk - 1) / chunk;
    T* partial = static_cast<T*>(scratch::get(scratch::kReduce, (size_t)(outputs * chunks) * sizeof(T)));
    rt::parallel_for(
        outputs * chunks,
        [=] RT_HD(int64_t i) {
          int64_t k = i % inner, c = (i / inner) % chunks, o = i / (inner * chunks);
          int64_t end = (c + 1) * chunk < r ? (c + 1) * chunk : r;
          T acc = identity_of<T>(base);
          for (int64_t j = c * chunk; j < end; ++j) acc = combine(base, acc, x[(o * r + j) * inner + k]);
          partial[i] = acc;
        },
        "reduce(partial)");
    const float scale = op == Mean ? 1.0f / (float)r : 1.0f;
    rt::parallel_for(
        outputs,
        [=] RT_HD(int64_t i) {
          int64_t k = i % inner, o = i / inner;
          T acc = identity_of<T>(base);
          for (int64_t c = 0; c < chunks; ++c) acc = combine(base, acc, partial[(o * chunks + c) * inner + k]);
          out[i] = op == Mean ? (T)(acc * scale) : acc;
        },
        "reduce(final)");
    return;
  }
  rt::parallel_for(
      outputs,
      [=] RT_HD(int64_t i) {
        int64_t k = i % inner, o = i / inner;
        T acc = identity_of<T>(base);
        for (int64_t j = 0; j < r; ++j) acc = combine(base, acc, x[(o * r + j) * inner + k]);
        out[i] = op == Mean ? (T)(acc / (T)r) : acc;
      },
      "reduce");
}

template <class T>
void arg_reduce(bool is_max, const T* x, int64_t outer, int64_t r, int64_t inner, int32_t* out) {
  rt::parallel_for(
      outer * inner,
      [=] RT_HD(int64_t i) {
        int64_t k = i % inner, o = i / inner;
        T best = x[o * r * inner + k];
        int32_t best_j = 0;
        for (int64_t j = 1; j < r; ++j) {
          T v = x[(o * r + j) * inner + k];
          if (is_max ? v > best : v < best) {
            best = v;
            best_j = (int32_t)j;
          }
        }
        out[i] = best_j;
      },
      "argReduce");
}

}  // namespace

void reduce(int op, int dtype, const void* x, int64_t outer, int64_t r, int64_t inner, void* out) {
  if (op == ArgMax || op == ArgMin) {
    if (dtype == F32)
      arg_reduce(op == ArgMax, static_cast<const float*>(x), outer, r, inner, static_cast<int32_t*>(out));
    else
      arg_reduce(op == ArgMax, static_cast<const int32_t*>(x), outer, r, inner, static_cast<int32_t*>(out));
    return;
  }
  if (dtype == F32)
    reduce_typed(op, static_cast<const float*>(x), outer, r, inner, static_cast<float*>(out));
  else
    reduce_typed(op, static_cast<const int32_t*>(x), outer, r, inner, static_cast<int32_t*>(out));
}

void softmax(const float* x, int64_t rows, int64_t cols, float* out, bool log) {
  rt::parallel_for(
      rows,
      [=] RT_HD(int64_t row) {
        const float* xr = x + row * cols;
        float* yr = out + row * cols;
        float m = -INFINITY;
        for (int64_t j = 0; j < cols; ++j) m = xr[j] > m ? xr[j] : m;
        float sum = 0.0f;
        for (int64_t j = 0; j < cols; ++j) sum += expf(xr[j] - m);
        if (log) {
          float ls = logf(sum);
          for (int64_t j = 0; j < cols; ++j) yr[j] = xr[j] - m - ls;
        } else {
          for (int64_t j = 0; j < cols; ++j) yr[j] = expf(xr[j] - m) / sum;
        }
      },
      "softmax");
}

}  // namespace kernels
