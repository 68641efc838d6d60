// Our own matrix products over operand *loaders*: C[z] = alpha·A[z]·B[z] + beta·C[z], where A(z, m, k)
// and B(z, k, n) are functions rather than arrays. A strided loader gives an ordinary product; the
// convolution loaders (conv.cu) read the input image as im2col columns on the fly (implicit GEMM),
// so no column buffer is written. The loaders' index arithmetic is __host__ __device__: the
// emulation build runs the same loaders in plain loops, so it is tested without a GPU; the tiled
// kernels below are the GPU-only part. Long sums are split over blocks (split-K) into a workspace
// and added in a fixed order, so results are the same bits on every run.
#pragma once
#include <cstdint>
#include <vector>

#include "gemm.hpp"
#include "runtime.hpp"
#include "scratch.hpp"

#ifdef __CUDACC__
#include <mma.h>
#endif

namespace gemm {

/** A row-major (or transposed) matrix with a batch stride: the loader of an ordinary product. */
struct Strided {
  const float* p;
  int64_t ld, stride;
  bool trans;  // element (r, c) at p[c·ld + r] instead of p[r·ld + c]
  int64_t rows, cols;
  RT_HD float operator()(int64_t z, int64_t r, int64_t c) const {
    if (r >= rows || c >= cols) return 0.0f;
    return trans ? p[z * stride + c * ld + r] : p[z * stride + r * ld + c];
  }
  /** Whether consecutive columns are adjacent in memory (decides how a tile is loaded). */
  RT_HD bool cols_contiguous() const { return !trans; }
};

/** Where a product's result goes: C[z](m, n) at c[z·stride + m·ldc + n]. */
struct Output {
  float* c;
  int64_t ldc, stride;
  float alpha, beta;
};

#ifdef __CUDACC__
constexpr int kBM = 64, kBN = 64, kBK = 16;

/**
 * Loads a kBM x kBK tile of A and a kBK x kBN tile of B into shared memory. Consecutive threads
 * take consecutive elements along each operand's contiguous axis, so global loads coalesce.
 */
template <class LA, class LB, int Threads, class SA, class SB, class Convert>
__device__ inline void load_tiles(const LA& la, const LB& lb, int64_t z, int64_t m0, int64_t n0, int64_t k0,
                                  int64_t k_end, SA& as, SB& bs, Convert convert) {
  const bool a_k_fast = la.cols_contiguous();
  const bool b_n_fast = lb.cols_contiguous();
  for (int l = threadIdx.x; l < kBM * kBK; l += Threads) {
    int mm = a_k_fast ? l / kBK : l % kBM, ka = a_k_fast ? l % kBK : l / kBM;
    int64_t k = k0 + ka;
    as[mm][ka] = convert(k < k_end ? la(z, m0 + mm, k) : 0.0f);
    int nn = b_n_fast ? l % kBN : l / kBK, kb = b_n_fast ? l / kBN : l % kBK;
    k = k0 + kb;
    bs[kb][nn] = convert(k < k_end ? lb(z, k, n0 + nn) : 0.0f);
  }
}

/** Writes (or, with split-K, stores a partial sum of) one output element. */
__device__ inline void store(const Output& o, float* partial, int64_t z, int64_t m, int64_t n, int64_t M,
                             int64_t N, float v) {
  if (m >= M || n >= N) return;
  if (partial) {
    partial[(z * M + m) * N + n] = v;  // z is the split here
    return;
  }
  float* out = o.c + z * o.stride + m * o.ldc + n;
  float r = o.alpha * v;
  *out = o.beta == 0.0f ? r : r + o.beta * *out;
}

/** fp32 SIMT: a 64x64 tile per block, 4x4 outputs per thread. grid.z is the batch or the split. */
template <class LA, class LB>
__global__ void __launch_bounds__(256) sgemm_tiles(LA la, LB lb, Output o, int64_t M, int64_t N, int64_t K,
                                                 int64_t k_per_split, float* partial) {
  const int64_t z = blockIdx.z;
  const int64_t batch = partial ? 0 : z;
  const int64_t k_begin = partial ? z * k_per_split : 0;
  const int64_t k_end = partial ? (k_begin + k_per_split < K ? k_begin + k_per_split : K) : K;
  __shared__ float as[kBM][kBK + 1];
  __shared__ float bs[kBK][kBN + 4];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t m0 = (int64_t)blockIdx.y * kBM, n0 = (int64_t)blockIdx.x * kBN;
  float acc[4][4] = {};
  for (int64_t k0 = k_begin; k0 < k_end; k0 += kBK) {
    load_tiles<LA, LB, 256>(la, lb, batch, m0, n0, k0, k_end, as, bs, [](float v) { return v; });
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) av[i] = as[ty + 16 * i][kk];
#pragma unroll
      for (int j = 0; j < 4; ++j) bv[j] = bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) store(o, partial, z, m0 + ty + 16 * i, n0 + tx + 16 * j, M, N, acc[i][j]);
}

/** TF32 tensor cores through WMMA: 4 warps, each a 32x32 piece of the 64x64 tile. */
template <class LA, class LB>
__global__ void __launch_bounds__(128) tf32_tiles(LA la, LB lb, Output o, int64_t M, int64_t N, int64_t K,
                                                int64_t k_per_split, float* partial) {
  using namespace nvcuda;
  const int64_t z = blockIdx.z;
  const int64_t batch = partial ? 0 : z;
  const int64_t k_begin = partial ? z * k_per_split : 0;
  const int64_t k_end = partial ? (k_begin + k_per_split < K ? k_begin + k_per_split : K) : K;
  __shared__ __align__(32) float as[kBM][kBK + 4];
  __shared__ __align__(32) float bs[kBK][kBN + 4];
  __shared__ __align__(32) float cs[4][32][32 + 4];
  const int warp = threadIdx.x / 32;
  const int wm = (warp / 2) * 32, wn = (warp % 2) * 32;
  const int64_t m0 = (int64_t)blockIdx.y * kBM, n0 = (int64_t)blockIdx.x * kBN;
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
  for (int64_t k0 = k_begin; k0 < k_end; k0 += kBK) {
    load_tiles<LA, LB, 128>(la, lb, batch, m0, n0, k0, k_end, as, bs,
                            [](float v) { return wmma::__float_to_tf32(v); });
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 8) {
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) wmma::load_matrix_sync(fa[i], &as[wm + 16 * i][kk], kBK + 4);
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(fb[j], &bs[kk][wn + 16 * j], kBN + 4);
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(&cs[warp][16 * i][16 * j], acc[i][j], 32 + 4, wmma::mem_row_major);
  __syncwarp();
  const int lane = threadIdx.x % 32;
  for (int r = 0; r < 32; ++r) store(o, partial, z, m0 + wm + r, n0 + wn + lane, M, N, cs[warp][r][lane]);
}
#endif

/** Splits of the summed axis so that a product with few output tiles still fills the GPU. */
inline int64_t split_count(int64_t m, int64_t n, int64_t k, int64_t batch) {
  if (batch != 1) return 1;
  const int64_t tiles = ((m + 63) / 64) * ((n + 63) / 64);
  const int64_t wanted = 264;  // two blocks for each of an H100/H200's 132 multiprocessors
  if (tiles >= wanted || k < 8192) return 1;
  int64_t splits = (wanted + tiles - 1) / tiles;
  const int64_t max_by_k = k / 1024;  // at least 1024 terms a split
  if (splits > max_by_k) splits = max_by_k;
  return splits < 1 ? 1 : splits;
}

/** C = alpha·A·B + beta·C over loaders, in `batch` independent products (grid z). */
template <class LA, class LB>
void run_loaders(const LA& la, const LB& lb, const Output& o, int64_t m, int64_t n, int64_t k, int64_t batch) {
  if (m <= 0 || n <= 0 || batch <= 0) return;
  const int64_t splits = split_count(m, n, k, batch);
  const int64_t k_per_split = ((k + splits - 1) / splits + 15) / 16 * 16;
  float* partial = nullptr;
  if (splits > 1) partial = static_cast<float*>(scratch::get(scratch::kGemm, (size_t)(splits * m * n) * 4));
#ifdef __CUDACC__
  dim3 grid((unsigned)((n + kBN - 1) / kBN), (unsigned)((m + kBM - 1) / kBM), (unsigned)(splits > 1 ? splits : batch));
  if (precision() == 0) sgemm_tiles<LA, LB><<<grid, 256, 0, rt::stream()>>>(la, lb, o, m, n, k, k_per_split, partial);
  else tf32_tiles<LA, LB><<<grid, 128, 0, rt::stream()>>>(la, lb, o, m, n, k, k_per_split, partial);
  rt::check_launch("gemm(tiles)");
#else
  // Emulation: the same loaders, the same split of the sum, in plain loops (each operand read
  // through its loader once per product, into a dense copy).
  for (int64_t zz = 0; zz < (splits > 1 ? splits : batch); ++zz) {
    const int64_t z = splits > 1 ? 0 : zz;
    const int64_t k_begin = splits > 1 ? zz * k_per_split : 0;
    const int64_t k_end = splits > 1 ? (k_begin + k_per_split < k ? k_begin + k_per_split : k) : k;
    const int64_t span = k_end > k_begin ? k_end - k_begin : 0;
    std::vector<float> bt((size_t)(n * span)), arow((size_t)span);
    for (int64_t kk = 0; kk < span; ++kk)
      for (int64_t j = 0; j < n; ++j) bt[(size_t)(j * span + kk)] = lb(z, k_begin + kk, j);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t kk = 0; kk < span; ++kk) arow[(size_t)kk] = la(z, i, k_begin + kk);
      for (int64_t j = 0; j < n; ++j) {
        const float* bj = bt.data() + j * span;
        float acc = 0.0f;
        for (int64_t kk = 0; kk < span; ++kk) acc += arow[(size_t)kk] * bj[kk];
        if (partial) {
          partial[(zz * m + i) * n + j] = acc;
        } else {
          float* out = o.c + z * o.stride + i * o.ldc + j;
          float r = o.alpha * acc;
          *out = o.beta == 0.0f ? r : r + o.beta * *out;
        }
      }
    }
  }
#endif
  if (partial) {
    const Output out = o;
    const int64_t count = splits;
    rt::parallel_for(
        m * n,
        [=] RT_HD(int64_t i) {
          float acc = 0.0f;
          for (int64_t s = 0; s < count; ++s) acc += partial[s * m * n + i];
          float* dst = out.c + (i / n) * out.ldc + (i % n);
          float r = out.alpha * acc;
          *dst = out.beta == 0.0f ? r : r + out.beta * *dst;
        },
        "gemm(splitK)");
  }
}

}  // namespace gemm
