// Portability layer: the same kernel bodies compile with nvcc for the GPU and with g++ for the
// host emulation build, which runs them as plain loops so the backend is testable without a GPU.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#ifdef __CUDACC__
#include <cuda_runtime.h>
#define RT_HD __host__ __device__
#define RT_DEVICE_BUILD 1
#else
#define RT_HD
#define RT_DEVICE_BUILD 0
#endif

namespace rt {

/** A CUDA (or emulation) failure; the message names the call and the runtime's reason. */
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

#ifdef __CUDACC__
cudaStream_t stream();
void check(cudaError_t status, const char* what);
void check_launch(const char* what);
#define RT_CHECK(call) ::rt::check((call), #call)

template <class F>
__global__ void for_each_kernel(int64_t n, F f) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x)
    f(i);
}

/** Runs f(i) for i in [0, n) on the backend's stream (a grid-stride loop). */
template <class F>
void parallel_for(int64_t n, F f, const char* what = "parallel_for") {
  if (n <= 0) return;
  constexpr int threads = 256;
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks > 65536 * 4) blocks = 65536 * 4;
  for_each_kernel<<<(unsigned)blocks, threads, 0, stream()>>>(n, f);
  check_launch(what);
}
#else
template <class F>
void parallel_for(int64_t n, F f, const char* = "parallel_for") {
  for (int64_t i = 0; i < n; ++i) f(i);
}
#endif

/** Up to 6 dimensions, passed by value into kernels. */
constexpr int kMaxRank = 6;
struct Dims {
  int rank = 0;
  int64_t d[kMaxRank] = {1, 1, 1, 1, 1, 1};
  RT_HD int64_t size() const {
    int64_t s = 1;
    for (int i = 0; i < rank; ++i) s *= d[i];
    return s;
  }
};

// Device memory and transfers (runtime.cu).
void* malloc_device(size_t bytes);
void free_device(void* ptr);
void upload(void* dst, const void* src, size_t bytes);
void download(void* dst, const void* src, size_t bytes);
void copy_device(void* dst, const void* src, size_t bytes);
void memset_device(void* dst, int value, size_t bytes);
void synchronize();

}  // namespace rt

namespace rt {
// Rounded float arithmetic that the compiler may not contract into fused multiply-adds.
#ifdef __CUDACC__
RT_HD inline float fmul(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
RT_HD inline float fadd(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
RT_HD inline float fsub(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
#else
inline float fmul(float a, float b) { return a * b; }
inline float fadd(float a, float b) { return a + b; }
inline float fsub(float a, float b) { return a - b; }
#endif
}  // namespace rt
