// Data movement: transpose, strided slice, pad, tile, concatenation, one-hot, gather.
#include "kernels.hpp"

namespace kernels {

namespace {
/** Coordinates of a flat index in `dims`, innermost last. */
struct Coords {
  int64_t c[rt::kMaxRank];
};
RT_HD inline Coords unflatten(int64_t i, const rt::Dims& dims) {
  Coords out{};
  for (int d = dims.rank - 1; d >= 0; --d) {
    out.c[d] = i % dims.d[d];
    i /= dims.d[d];
  }
  return out;
}
rt::Dims strides_of(const rt::Dims& dims) {
  rt::Dims s = dims;
  int64_t stride = 1;
  for (int d = dims.rank - 1; d >= 0; --d) {
    s.d[d] = stride;
    stride *= dims.d[d];
  }
  return s;
}
}  // namespace

void transpose(const void* x, const rt::Dims& xd, const int* perm, void* out) {
  const uint32_t* xs = static_cast<const uint32_t*>(x);
  uint32_t* ys = static_cast<uint32_t*>(out);
  rt::Dims od = xd, in_strides = strides_of(xd), perm_strides = xd;
  for (int d = 0; d < xd.rank; ++d) {
    od.d[d] = xd.d[perm[d]];
    perm_strides.d[d] = in_strides.d[perm[d]];
  }
  rt::parallel_for(
      od.size(),
      [=] RT_HD(int64_t i) {
        Coords c = unflatten(i, od);
        int64_t src = 0;
        for (int d = 0; d < od.rank; ++d) src += c.c[d] * perm_strides.d[d];
        ys[i] = xs[src];
      },
      "transpose");
}

void strided_slice(const void* x, const rt::Dims& xd, const int64_t* begin, const int64_t* step, void* out,
                   const rt::Dims& od) {
  const uint32_t* xs = static_cast<const uint32_t*>(x);
  uint32_t* ys = static_cast<uint32_t*>(out);
  rt::Dims in_strides = strides_of(xd), b = od, s = od;
  for (int d = 0; d < od.rank; ++d) {
    b.d[d] = begin[d];
    s.d[d] = step[d];
  }
  rt::parallel_for(
      od.size(),
      [=] RT_HD(int64_t i) {
        Coords c = unflatten(i, od);
        int64_t src = 0;
        for (int d = 0; d < od.rank; ++d) src += (b.d[d] + c.c[d] * s.d[d]) * in_strides.d[d];
        ys[i] = xs[src];
      },
      "slice");
}

void pad(const void* x, const rt::Dims& xd, const int64_t* before, uint32_t value_bits, void* out,
         const rt::Dims& od) {
  const uint32_t* xs = static_cast<const uint32_t*>(x);
  uint32_t* ys = static_cast<uint32_t*>(out);
  rt::Dims in_strides = strides_of(xd), b = od, xdims = xd;
  for (int d = 0; d < od.rank; ++d) b.d[d] = before[d];
  rt::parallel_for(
      od.size(),
      [=] RT_HD(int64_t i) {
        Coords c = unflatten(i, od);
        int64_t src = 0;
        for (int d = 0; d < od.rank; ++d) {
          int64_t k = c.c[d] - b.d[d];
          if (k < 0 || k >= xdims.d[d]) {
            ys[i] = value_bits;
            return;
          }
          src += k * in_strides.d[d];
        }
        ys[i] = xs[src];
      },
      "pad");
}

void tile(const void* x, const rt::Dims& xd, void* out, const rt::Dims& od) {
  const uint32_t* xs = static_cast<const uint32_t*>(x);
  uint32_t* ys = static_cast<uint32_t*>(out);
  rt::Dims in_strides = strides_of(xd), xdims = xd;
  rt::parallel_for(
      od.size(),
      [=] RT_HD(int64_t i) {
        Coords c = unflatten(i, od);
        int64_t src = 0;
        for (int d = 0; d < od.rank; ++d) src += (c.c[d] % xdims.d[d]) * in_strides.d[d];
        ys[i] = xs[src];
      },
      "tile");
}

void copy_columns(const void* x, int64_t rows, int64_t cols, void* out, int64_t out_cols, int64_t col_offset) {
  const uint32_t* xs = static_cast<const uint32_t*>(x);
  uint32_t* ys = static_cast<uint32_t*>(out);
  rt::parallel_for(
      rows * cols,
      [=] RT_HD(int64_t i) {
        int64_t r = i / cols, c = i % cols;
        ys[r * out_cols + col_offset + c] = xs[i];
      },
      "concat");
}

void one_hot(const int32_t* indices, int64_t n, int64_t depth, uint32_t on, uint32_t off, uint32_t* out) {
  rt::parallel_for(
      n * depth,
      [=] RT_HD(int64_t i) {
        int64_t row = i / depth, col = i % depth;
        out[i] = indices[row] == col ? on : off;
      },
      "oneHot");
}

void gather(const void* x, int64_t outer, int64_t axis_size, int64_t inner, const int32_t* indices,
            int64_t num_indices, void* out) {
  const uint32_t* xs = static_cast<const uint32_t*>(x);
  uint32_t* ys = static_cast<uint32_t*>(out);
  rt::parallel_for(
      outer * num_indices * inner,
      [=] RT_HD(int64_t i) {
        int64_t k = i % inner, j = (i / inner) % num_indices, o = i / (inner * num_indices);
        int64_t idx = indices[j];
        // tfjs returns zeros for out-of-range indices on the CPU.
        ys[i] = (idx < 0 || idx >= axis_size) ? 0u : xs[(o * axis_size + idx) * inner + k];
      },
      "gather");
}

}  // namespace kernels
