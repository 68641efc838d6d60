// Matrix products: cuBLAS when it can be loaded at run time (no headers needed: the few entry
// points are declared here), our own tiled kernels otherwise; plain loops in the emulation build.
#include "gemm.hpp"

#include <cstdlib>
#include <string>
#include <vector>

#include "gemm_tiles.cuh"
#include "runtime.hpp"

#ifdef __CUDACC__
#include <dlfcn.h>
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
// fp32 uses the default math mode, as PyTorch does with TF32 off: IEEE products, no tensor cores.
constexpr int kDefaultMath = 0, kTf32Math = 3;
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

bool run_cublas(const Args& g) {
  Cublas& cb = g_cublas;
  int mode = g_precision == 1 ? kTf32Math : kDefaultMath;
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

bool use_cublas() {
  if (g_engine == kEngineOwn || g_engine == kEngineIm2col) return false;
  if (g_engine == kEngineCublas) {
    if (!load_cublas()) throw rt::Error("gemm: the cuBLAS engine was asked for but " + g_cublas.status);
    return true;
  }
  return load_cublas();
}

#else  // emulation

bool cublas_loaded() { return false; }
std::string cublas_status() { return "emulation build: no cuBLAS"; }
bool use_cublas() {
  if (g_engine == kEngineCublas) throw rt::Error("gemm: the cuBLAS engine was asked for but the emulation build has none");
  return false;
}
static bool run_cublas(const Args&) { return false; }

#endif

void run(const Args& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  if (g.k <= 0) {
    scale_output(g);
    return;
  }
  const bool fits_int = g.m < (1LL << 31) && g.n < (1LL << 31) && g.k < (1LL << 31);
  if (fits_int && use_cublas()) {
    run_cublas(g);
    return;
  }
  const Strided a{g.a, g.lda, g.stride_a, g.trans_a, g.m, g.k};
  const Strided b{g.b, g.ldb, g.stride_b, g.trans_b, g.k, g.n};
  const Output o{g.c, g.ldc, g.stride_c, g.alpha, g.beta};
  run_loaders(a, b, o, g.m, g.n, g.k, g.batch);
}

}  // namespace gemm
