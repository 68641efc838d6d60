// Matrix products: cuBLAS when it can be loaded at run time (no headers needed: the few entry
// points are declared here), our own tiled kernels otherwise; plain loops in the emulation build.
#include "gemm.hpp"

#include <cstdlib>
#include <string>
#include <vector>

#include "runtime.hpp"

#ifdef __CUDACC__
#include <dlfcn.h>
#include <mma.h>
#endif

namespace gemm {

namespace {
int g_precision = 0;
int g_engine = 0;
}  // namespace

/** An empty sum over k: C = beta·C. */
static void scale_output(const Args& g) {
  float* c = g.c;
  const int64_t n = g.n, m = g.m, ldc = g.ldc, stride = g.stride_c;
  const float beta = g.beta;
  rt::parallel_for(
      g.batch * m * n,
      [=] RT_HD(int64_t i) {
        int64_t col = i % n, row = (i / n) % m, batch = i / (n * m);
        float* out = c + batch * stride + row * ldc + col;
        *out = beta == 0.0f ? 0.0f : beta * *out;
      },
      "gemm(empty)");
}

void set_precision(int p) { g_precision = p; }
int precision() { return g_precision; }
void set_engine(int e) { g_engine = e; }
int engine() { return g_engine; }

#ifdef __CUDACC__

// ---- cuBLAS, loaded at run time -------------------------------------------------------------
namespace {
using Handle = void*;
using CreateFn = int (*)(Handle*);
using SetStreamFn = int (*)(Handle, cudaStream_t);
using SetMathModeFn = int (*)(Handle, int);
using SgemmStridedBatchedFn = int (*)(Handle, int, int, int, int, int, const float*, const float*, int, long long,
                                      const float*, int, long long, const float*, float*, int, long long, int);
// cublasGemmStridedBatchedEx: compute type and data types are enums (cudaDataType, cublasComputeType_t).
using GemmStridedBatchedExFn = int (*)(Handle, int, int, int, int, int, const void*, const void*, int, int,
                                       long long, const void*, int, int, long long, const void*, void*, int, int,
                                       long long, int, int, int);
constexpr int kOpN = 0, kOpT = 1;
constexpr int kDefaultMath = 0, kPedanticMath = 2, kTf32Math = 3;
constexpr int kComputeF32FastBf16 = 75;  // CUBLAS_COMPUTE_32F_FAST_16BF
constexpr int kR32F = 0;                 // CUDA_R_32F
constexpr int kGemmDefault = -1;         // CUBLAS_GEMM_DEFAULT

struct Cublas {
  bool tried = false;
  bool ok = false;
  std::string status = "not loaded yet";
  Handle handle = nullptr;
  SetMathModeFn set_math_mode = nullptr;
  SgemmStridedBatchedFn sgemm = nullptr;
  GemmStridedBatchedExFn gemm_ex = nullptr;
  int math_mode = -1;
} g_cublas;

void* open_first(const std::vector<std::string>& names, std::string* tried) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("RESNET_CUDA_LIBRARY_PATH")) {
    std::string s(env);
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) dirs.push_back(s.substr(start, end - start) + "/");
      start = end + 1;
    }
  }
  dirs.push_back("");  // the loader's own search (LD_LIBRARY_PATH, ldconfig)
  const char* homes[] = {std::getenv("CUDA_HOME"), std::getenv("CUDA_PATH"), "/usr/local/cuda"};
  for (const char* home : homes) {
    if (home) dirs.push_back(std::string(home) + "/lib64/");
  }
  for (const auto& dir : dirs) {
    for (const auto& name : names) {
      void* lib = dlopen((dir + name).c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib) {
        *tried = dir + name;
        return lib;
      }
    }
  }
  *tried = "";
  return nullptr;
}

bool load_cublas() {
  Cublas& c = g_cublas;
  if (c.tried) return c.ok;
  c.tried = true;
  std::string path;
  void* lib = open_first({"libcublas.so.13", "libcublas.so.12", "libcublas.so"}, &path);
  if (!lib) {
    c.status = "libcublas.so.13/12 not found (set RESNET_CUDA_LIBRARY_PATH to its folder)";
    return false;
  }
  auto create = reinterpret_cast<CreateFn>(dlsym(lib, "cublasCreate_v2"));
  auto set_stream = reinterpret_cast<SetStreamFn>(dlsym(lib, "cublasSetStream_v2"));
  c.set_math_mode = reinterpret_cast<SetMathModeFn>(dlsym(lib, "cublasSetMathMode"));
  c.sgemm = reinterpret_cast<SgemmStridedBatchedFn>(dlsym(lib, "cublasSgemmStridedBatched"));
  c.gemm_ex = reinterpret_cast<GemmStridedBatchedExFn>(dlsym(lib, "cublasGemmStridedBatchedEx"));
  if (!create || !set_stream || !c.set_math_mode || !c.sgemm) {
    c.status = path + ": missing cuBLAS entry points";
    return false;
  }
  int status = create(&c.handle);
  if (status != 0) {
    c.status = path + ": cublasCreate failed with status " + std::to_string(status);
    return false;
  }
  set_stream(c.handle, rt::stream());
  c.ok = true;
  c.status = path;
  return true;
}

// ---- our kernels ------------------------------------------------------------------------------
constexpr int BM = 64, BN = 64, BK = 16, kThreads = 256;

template <bool TA, bool TB>
__device__ inline float load_a(const Args& g, const float* a, int64_t m, int64_t k) {
  if (m >= g.m || k >= g.k) return 0.0f;
  return TA ? a[k * g.lda + m] : a[m * g.lda + k];
}
template <bool TA, bool TB>
__device__ inline float load_b(const Args& g, const float* b, int64_t k, int64_t n) {
  if (k >= g.k || n >= g.n) return 0.0f;
  return TB ? b[n * g.ldb + k] : b[k * g.ldb + n];
}

/** fp32 SIMT product: a 64x64 tile per block, 4x4 outputs per thread. */
template <bool TA, bool TB>
__global__ void __launch_bounds__(kThreads) sgemm_tiled(Args g) {
  const int64_t batch = blockIdx.z;
  const float* a = g.a + batch * g.stride_a;
  const float* b = g.b + batch * g.stride_b;
  float* c = g.c + batch * g.stride_c;
  __shared__ float as[BK][BM + 4];
  __shared__ float bs[BK][BN + 4];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t m0 = (int64_t)blockIdx.y * BM, n0 = (int64_t)blockIdx.x * BN;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < g.k; k0 += BK) {
    for (int l = threadIdx.x; l < BM * BK; l += kThreads) {
      // Consecutive threads walk the contiguous axis of each operand (coalesced loads).
      int mm = TA ? l % BM : l / BK, ka = TA ? l / BM : l % BK;
      as[ka][mm] = load_a<TA, TB>(g, a, m0 + mm, k0 + ka);
      int nn = TB ? l / BK : l % BN, kb = TB ? l % BK : l / BN;
      bs[kb][nn] = load_b<TA, TB>(g, b, k0 + kb, n0 + nn);
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) av[i] = as[kk][ty + 16 * i];
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
  for (int i = 0; i < 4; ++i) {
    int64_t m = m0 + ty + 16 * i;
    if (m >= g.m) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      int64_t n = n0 + tx + 16 * j;
      if (n >= g.n) continue;
      float v = g.alpha * acc[i][j];
      float* out = c + m * g.ldc + n;
      *out = g.beta == 0.0f ? v : v + g.beta * *out;
    }
  }
}

/** TF32 tensor-core product through WMMA: 4 warps, each a 32x32 piece of a 64x64 tile. */
template <bool TA, bool TB>
__global__ void __launch_bounds__(128) tf32_wmma(Args g) {
  using namespace nvcuda;
  const int64_t batch = blockIdx.z;
  const float* a = g.a + batch * g.stride_a;
  const float* b = g.b + batch * g.stride_b;
  float* c = g.c + batch * g.stride_c;
  constexpr int TK = 16;
  __shared__ __align__(32) float as[BM][TK + 4];  // row-major m x k
  __shared__ __align__(32) float bs[TK][BN + 4];  // row-major k x n
  __shared__ __align__(32) float cs[4][32][32 + 4];
  const int warp = threadIdx.x / 32;
  const int wm = (warp / 2) * 32, wn = (warp % 2) * 32;
  const int64_t m0 = (int64_t)blockIdx.y * BM, n0 = (int64_t)blockIdx.x * BN;
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
  for (int64_t k0 = 0; k0 < g.k; k0 += TK) {
    for (int l = threadIdx.x; l < BM * TK; l += 128) {
      int mm = TA ? l % BM : l / TK, ka = TA ? l / BM : l % TK;
      as[mm][ka] = wmma::__float_to_tf32(load_a<TA, TB>(g, a, m0 + mm, k0 + ka));
      int nn = TB ? l / TK : l % BN, kb = TB ? l % TK : l / BN;
      bs[kb][nn] = wmma::__float_to_tf32(load_b<TA, TB>(g, b, k0 + kb, n0 + nn));
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < TK; kk += 8) {
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) wmma::load_matrix_sync(fa[i], &as[wm + 16 * i][kk], TK + 4);
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(fb[j], &bs[kk][wn + 16 * j], BN + 4);
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
  for (int r = 0; r < 32; ++r) {
    int64_t m = m0 + wm + r, n = n0 + wn + lane;
    if (m >= g.m || n >= g.n) continue;
    float v = g.alpha * cs[warp][r][lane];
    float* out = c + m * g.ldc + n;
    *out = g.beta == 0.0f ? v : v + g.beta * *out;
  }
}

template <bool TA, bool TB>
void launch_own(const Args& g) {
  dim3 grid((unsigned)((g.n + BN - 1) / BN), (unsigned)((g.m + BM - 1) / BM), (unsigned)g.batch);
  if (g_precision == 0) sgemm_tiled<TA, TB><<<grid, kThreads, 0, rt::stream()>>>(g);
  else tf32_wmma<TA, TB><<<grid, 128, 0, rt::stream()>>>(g);  // bf16 falls back to tf32 here
  rt::check_launch("gemm");
}

bool run_cublas(const Args& g) {
  Cublas& cb = g_cublas;
  int mode = g_precision == 0 ? kPedanticMath : (g_precision == 1 ? kTf32Math : kDefaultMath);
  if (mode != cb.math_mode) {
    cb.set_math_mode(cb.handle, mode);
    cb.math_mode = mode;
  }
  // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands.
  int status;
  if (g_precision == 2 && cb.gemm_ex) {
    status = cb.gemm_ex(cb.handle, g.trans_b ? kOpT : kOpN, g.trans_a ? kOpT : kOpN, (int)g.n, (int)g.m, (int)g.k,
                        &g.alpha, g.b, kR32F, (int)g.ldb, g.stride_b, g.a, kR32F, (int)g.lda, g.stride_a, &g.beta,
                        g.c, kR32F, (int)g.ldc, g.stride_c, (int)g.batch, kComputeF32FastBf16, kGemmDefault);
  } else {
    status = cb.sgemm(cb.handle, g.trans_b ? kOpT : kOpN, g.trans_a ? kOpT : kOpN, (int)g.n, (int)g.m, (int)g.k,
                      &g.alpha, g.b, (int)g.ldb, g.stride_b, g.a, (int)g.lda, g.stride_a, &g.beta, g.c, (int)g.ldc,
                      g.stride_c, (int)g.batch);
  }
  if (status != 0) throw rt::Error("cuBLAS gemm failed with status " + std::to_string(status));
  return true;
}
}  // namespace

bool cublas_loaded() { return load_cublas(); }
std::string cublas_status() {
  load_cublas();
  return g_cublas.status;
}

void run(const Args& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  if (g.k <= 0) {
    scale_output(g);
    return;
  }
  const bool fits_int = g.m < (1LL << 31) && g.n < (1LL << 31) && g.k < (1LL << 31);
  if (g_engine != 1 && fits_int && load_cublas()) {
    run_cublas(g);
    return;
  }
  if (g_engine == 2) throw rt::Error("gemm: the cuBLAS engine was asked for but " + g_cublas.status);
  if (g.trans_a) {
    if (g.trans_b) launch_own<true, true>(g);
    else launch_own<true, false>(g);
  } else {
    if (g.trans_b) launch_own<false, true>(g);
    else launch_own<false, false>(g);
  }
}

#else  // emulation

bool cublas_loaded() { return false; }
std::string cublas_status() { return "emulation build: no cuBLAS"; }

void run(const Args& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  if (g.k <= 0) {
    scale_output(g);
    return;
  }
  for (int64_t batch = 0; batch < g.batch; ++batch) {
    const float* a = g.a + batch * g.stride_a;
    const float* b = g.b + batch * g.stride_b;
    float* c = g.c + batch * g.stride_c;
    std::vector<float> row((size_t)g.n);
    for (int64_t m = 0; m < g.m; ++m) {
      std::fill(row.begin(), row.end(), 0.0f);
      for (int64_t k = 0; k < g.k; ++k) {
        float av = g.trans_a ? a[k * g.lda + m] : a[m * g.lda + k];
        if (g.trans_b) {
          for (int64_t n = 0; n < g.n; ++n) row[(size_t)n] += av * b[n * g.ldb + k];
        } else {
          const float* br = b + k * g.ldb;
          for (int64_t n = 0; n < g.n; ++n) row[(size_t)n] += av * br[n];
        }
      }
      float* cr = c + m * g.ldc;
      for (int64_t n = 0; n < g.n; ++n) {
        float v = g.alpha * row[(size_t)n];
        cr[n] = g.beta == 0.0f ? v : v + g.beta * cr[n];
      }
    }
  }
}

#endif

}  // namespace gemm
