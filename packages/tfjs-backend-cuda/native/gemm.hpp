#pragma once
#include <cstdint>
#include <string>

namespace gemm {

/** Row-major C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b]; a batch stride of 0 broadcasts. */
struct Args {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t lda = 0, stride_a = 0;
  const float* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  float* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  int64_t batch = 1;
  float alpha = 1.0f, beta = 0.0f;
};

/** 0: fp32 (exact IEEE products), 1: tf32 tensor cores, 2: bf16 operands with fp32 accumulation. */
void set_precision(int precision);
int precision();

/**
 * Which code runs products and convolutions: auto (cuBLAS, with im2col for convolutions, when it
 * loads; otherwise ours), own (our kernels; convolutions as implicit GEMM), cublas (cuBLAS or an
 * error), im2col (im2col columns and our product kernels).
 */
enum Engine { kEngineAuto = 0, kEngineOwn = 1, kEngineCublas = 2, kEngineIm2col = 3 };
void set_engine(int engine);
int engine();
/** Whether products go to cuBLAS under the current engine (throws when cublas is forced but absent). */
bool use_cublas();

/** Whether cuBLAS loaded, and from where (or why not). */
bool cublas_loaded();
std::string cublas_status();

void run(const Args& args);

}  // namespace gemm
