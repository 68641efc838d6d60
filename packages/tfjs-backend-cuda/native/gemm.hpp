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

/** Which engine runs products: 0 auto (cuBLAS when it loads), 1 our kernels, 2 cuBLAS only. */
void set_engine(int engine);
int engine();

/** Whether cuBLAS loaded, and from where (or why not). */
bool cublas_loaded();
std::string cublas_status();

void run(const Args& args);

}  // namespace gemm
